// A fixed pool of worker threads for CPU-bound fan-out (signature checks).
//
// ParallelFor(n, fn) runs fn(i) for i in [0, n) on the pool and the calling
// thread together and returns when all are done. Thread-safe; one ParallelFor
// at a time per pool (callers serialize; the apply path has one caller).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cl::node {

class WorkerPool {
 public:
  // threads = 0: no workers; everything runs on the caller.
  explicit WorkerPool(size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void ParallelFor(size_t n, const std::function<void(size_t)>& fn);
  size_t threads() const { return workers_.size(); }

 private:
  void WorkerLoop();
  void RunShare();

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::vector<std::thread> workers_;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t n_ = 0;
  size_t next_ = 0;       // next index to hand out
  size_t finished_ = 0;   // indexes completed
  uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace cl::node
