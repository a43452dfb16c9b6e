// accept4 with a pause when the process is out of file descriptors.
//
// Pistache 0.0.5's listener thread (Tcp::Listener::run) watches its listening
// socket level-triggered and, when accept4 fails with EMFILE or ENFILE, only
// logs and polls again: the socket is still readable, so at the open-file
// limit that thread spins a core until descriptors free up (defect D4 in
// docs/RELIABILITY.md). Its accept4 call goes through the PLT, and the
// executable's own definition of a symbol comes first in the lookup, so this
// one is what it calls. It calls the next definition (libc's, or a
// sanitizer's interceptor) and, on EMFILE/ENFILE, sleeps before returning the
// error: the listener then polls a few times a second instead of spinning,
// and the waiting connections stay in the backlog until a descriptor is free.
// Only Pistache's listener thread accepts in this process. Each accepted
// connection is also published for the reactor that takes it over
// (publish_accepted_connection: the hand-off ThreadSanitizer cannot see).

#include <dlfcn.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include "http/connection_transport.hpp"

namespace {

using Accept4 = int (*)(int, sockaddr*, socklen_t*, int);

Accept4 next_accept4() {
  static const auto next = reinterpret_cast<Accept4>(::dlsym(RTLD_NEXT, "accept4"));  // NOLINT: dlsym's contract
  return next;
}

// Doubles from 10 ms to 320 ms while the limit lasts, like Go's net/http accept loop.
thread_local std::chrono::milliseconds t_pause{0};

}  // namespace

extern "C" int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  const int client = next_accept4()(fd, addr, len, flags);
  if (client >= 0) {
    t_pause = std::chrono::milliseconds(0);
    scalecache::publish_accepted_connection();
    return client;
  }
  if (errno != EMFILE && errno != ENFILE) return client;
  const int saved = errno;
  t_pause = std::clamp(t_pause * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(320));
  std::this_thread::sleep_for(t_pause);
  errno = saved;
  return client;
}
