// Crash tests with real processes: a child runs the crash workload on a store
// and is killed with SIGKILL at random moments; after each kill the parent
// reopens the store and checks every invariant (tests/storage/test_chain.h)
// against what the child acknowledged. Seeded: set CL_CRASH_SEED to replay.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "storage/store.h"
#include "tests/storage/test_chain.h"

namespace cl::storage::testing {
namespace {

std::string TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("cl_storage_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

uint64_t SeedFromEnv() {
  if (const char* s = std::getenv("CL_CRASH_SEED")) return std::strtoull(s, nullptr, 10);
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

uintmax_t AckBytes(const std::string& path) {
  std::error_code ec;
  uintmax_t n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

// Reads the acknowledgement lines added since `offset` into the model.
void ConsumeAcks(const std::string& path, std::streamoff* offset, LogModel* model) {
  std::ifstream in(path);
  in.seekg(*offset);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: torn by the kill, never acknowledged
    model->Consume(line);
    *offset = in.tellg();
  }
}

TEST(StorageCrashTest, SigkillAtRandomMomentsLosesNothingAcknowledged) {
  const uint64_t seed = SeedFromEnv();
  std::printf("crash test seed %llu (replay with CL_CRASH_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const std::string root = TempDir("crash");
  const std::string db = root + "/db", acks = root + "/acks";
  const int kills = std::getenv("CL_CRASH_KILLS") ? std::atoi(std::getenv("CL_CRASH_KILLS")) : 60;
  LogModel model;
  std::streamoff offset = 0;
  int killed_while_running = 0;
  for (int round = 0; round < kills; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + ", seed " + std::to_string(seed));
    const std::string child_seed = std::to_string(rng());
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::execl(CL_CRASH_CHILD, CL_CRASH_CHILD, db.c_str(), child_seed.c_str(), acks.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // A quarter of the kills land blindly early (often inside Store::Open);
    // the others wait until the child acknowledged something new, so every
    // round makes progress however slow the machine (or a sanitizer) is.
    if (rng() % 4 != 0) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (AckBytes(acks) <= static_cast<uintmax_t>(offset) &&
             std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 200));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped by itself, exit status "
                                     << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    ++killed_while_running;
    ConsumeAcks(acks, &offset, &model);
    auto store = Store::Open(db, StoreOptions{.chain_id = kChainId});
    ASSERT_TRUE(store.ok()) << store.status();
    Status check = CheckStore(**store, &model);
    ASSERT_TRUE(check.ok()) << check;
  }
  EXPECT_EQ(killed_while_running, kills);
  // The runs made progress: blocks were applied and acknowledged across kills.
  EXPECT_GT(model.durable_height, 10u);
  std::printf("after %d kills: %llu blocks, applied index %llu acknowledged\n", kills,
              static_cast<unsigned long long>(model.durable_height),
              static_cast<unsigned long long>(model.durable_applied));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace cl::storage::testing
