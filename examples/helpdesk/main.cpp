// wik-helpdesk: runs the helpdesk integration with the configuration of wik.toml ($WIK_CONFIG)
// and the WIK_* environment variables, its catalogs from $WIK_HELPDESK_LOCALES (default: the
// locales folder of the source tree it was built from).
#include <wik/app.h>
#include <wik/i18n.h>

#include <cstdio>
#include <cstdlib>

#include "helpdesk.h"

int main() {
  auto config = wik::load_config();
  if (!config) {
    std::fprintf(stderr, "wik-helpdesk: %s\n", config.error().reason().c_str());
    return 2;
  }
  const char* folder = std::getenv("WIK_HELPDESK_LOCALES");
  auto catalogs = wik::Catalogs::load(folder != nullptr ? folder : WIK_HELPDESK_LOCALES_DIR);
  if (!catalogs) {
    std::fprintf(stderr, "wik-helpdesk: catalogs: %s\n", catalogs.error().reason().c_str());
    return 2;
  }
  if (auto complete = catalogs->check(); !complete) {
    std::fprintf(stderr, "wik-helpdesk: catalogs: %s\n", complete.error().reason().c_str());
    return 2;
  }
  const std::string public_url =
      config->server.public_url.empty() ? "http://127.0.0.1:" + std::to_string(config->server.port) : config->server.public_url;
  wik::App app(*config);
  helpdesk::install_helpdesk(app, *catalogs, {.public_url = public_url, .support_contact = "support@helpdesk.example"});
  if (auto ran = app.run(); !ran) {
    std::fprintf(stderr, "wik-helpdesk: %s\n", ran.error().reason().c_str());
    return 1;
  }
  return 0;
}
