// Names the calling thread, so `top -H`, `ps -L`, perf and gdb show which
// of a node's threads is busy (raft, peer I/O, HTTP, ...).
#pragma once

namespace cl {

// At most 15 characters are kept (the kernel's limit); longer names are cut.
void NameThisThread(const char* name);

}  // namespace cl
