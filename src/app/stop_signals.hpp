#pragma once
#include <csignal>

namespace deliveryhub::app {

/// The signals that stop the process: SIGTERM (the kubelet, `podman stop`) and SIGINT (Ctrl-C).
/// main() blocks them in every thread before any starts; run() takes them with sigwait, or with
/// sigtimedwait while start-up waits for the database.
inline sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

}  // namespace deliveryhub::app
