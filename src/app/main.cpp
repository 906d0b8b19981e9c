#include "composition_root.hpp"
#include "stop_signals.hpp"

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  // SIGTERM/SIGINT are taken by sigwait in run(); block them before any thread starts.
  const sigset_t signals = deliveryhub::app::stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  namespace app = deliveryhub::app;
  auto outcome = deliveryhub::core::config::parse_command_line(argc, argv, std::cout, std::cerr,
                                                               app::module_settings(app::registry()));
  if (!outcome.settings) return outcome.exit_code;
  try {
    return app::run(*outcome.settings);
  } catch (const app::ConfigurationError& e) {
    std::cerr << "deliveryhub: invalid setting: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "deliveryhub: cannot start: " << e.what() << "\n";
    return 1;
  }
}
