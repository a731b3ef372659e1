// wik-helpdesk: runs the helpdesk integration with the configuration of wik.toml ($WIK_CONFIG)
// and the WIK_* environment variables, its catalogs from $WIK_HELPDESK_LOCALES (default: the
// locales folder of the source tree it was built from). `wik-helpdesk --check-manifest app.toml`
// checks the manifest against the review rules and what the helpdesk's handlers need instead
// (App::check_manifest), and exits 1 on errors.
#include <wik/app.h>
#include <wik/i18n.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "helpdesk.h"

int main(int argc, char** argv) {
  const bool check_manifest = argc == 3 && std::string_view(argv[1]) == "--check-manifest";
  if (argc != 1 && !check_manifest) {
    std::fprintf(stderr, "usage: wik-helpdesk [--check-manifest app.toml]\n");
    return 2;
  }
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
  if (check_manifest) {
    auto findings = app.check_manifest(argv[2]);
    if (!findings) {
      std::fprintf(stderr, "wik-helpdesk: %s\n", findings.error().reason().c_str());
      return 2;
    }
    bool errors = false;
    for (const std::string& line : *findings) {
      errors = errors || line.starts_with("error:");
      std::printf("%s\n", line.c_str());
    }
    std::printf("%s: %zu finding(s)\n", argv[2], findings->size());
    return errors ? 1 : 0;
  }
  if (auto ran = app.run(); !ran) {
    std::fprintf(stderr, "wik-helpdesk: %s\n", ran.error().reason().c_str());
    return 1;
  }
  return 0;
}
