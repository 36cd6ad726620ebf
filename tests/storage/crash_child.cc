// storage_crash_child DIR SEED ACK_FILE: runs the crash workload on the store
// in DIR until killed. Every acknowledgement line is written to ACK_FILE with
// one write(2) AFTER the synced store write returned, so the parent knows what
// the store promised was durable. Exits non-zero on any store error.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "storage/store.h"
#include "tests/storage/test_chain.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: storage_crash_child DIR SEED ACK_FILE\n");
    return 2;
  }
  int ack_fd = ::open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (ack_fd < 0) {
    std::perror("open ack file");
    return 2;
  }
  auto store = cl::storage::Store::Open(
      argv[1], cl::storage::StoreOptions{.chain_id = cl::storage::testing::kChainId});
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 3;
  }
  cl::storage::testing::CrashWorkload work(
      **store, std::strtoull(argv[2], nullptr, 10),
      [ack_fd](const std::string& line) {
        std::string l = line + "\n";
        if (::write(ack_fd, l.data(), l.size()) != static_cast<ssize_t>(l.size())) std::abort();
      },
      /*durable_applies=*/true);
  for (;;) {
    cl::Status s = work.Step();
    if (!s.ok()) {
      std::fprintf(stderr, "step: %s\n", s.ToString().c_str());
      return 4;
    }
  }
}
