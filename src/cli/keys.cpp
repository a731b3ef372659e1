// wik keys generate | add: create the key ring file that seals access tokens at rest, and add a new
// active key to it (the first step of a rotation; docs/key-ring.md). Key material is written only
// to files created with mode 0600 and is never printed.
#include <cstdio>

#include "cli/commands.h"
#include "cli/inputs.h"
#include "cli/private_files.h"
#include "config/secret_file.h"
#include "core/key_ring.h"

namespace wik::cli {
namespace {

struct KeysOptions {
  std::filesystem::path file;
  std::string key_id;
};

int run_generate(const KeysOptions& options) {
  const std::string id = options.key_id.empty() ? default_key_id() : options.key_id;
  if (!core::is_valid_key_id(id)) {
    return report(Error(ErrorCode::kInvalidArgument, "key id must be 1-32 characters of A-Z a-z 0-9 _ -"), "keys generate", 1);
  }
  if (auto written = create_key_ring_file(options.file, id); !written) {
    return report(written.error(), "keys generate", 2);
  }
  std::printf("created %s with key %s (active)\n", options.file.c_str(), id.c_str());
  return 0;
}

int run_add(const KeysOptions& options) {
  auto text = config::read_secret_file(options.file);
  if (!text) return report(text.error(), "keys add", 2);
  auto ring = core::KeyRing::parse(text->expose());
  if (!ring) return report(ring.error(), "keys add", 2);
  const std::string id = options.key_id.empty() ? default_key_id() : options.key_id;
  if (auto rotated = ring->rotate_to(id); !rotated) return report(rotated.error(), "keys add", 1);
  if (auto written = write_private_file(options.file, ring->serialize(), true); !written) {
    return report(written.error(), "keys add", 2);
  }
  std::printf("added key %s to %s and made it active; older keys still open what they sealed\n", id.c_str(),
              options.file.c_str());
  return 0;
}

}  // namespace

void add_keys_command(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand("keys", "Manage the key ring that seals access tokens at rest");
  command->require_subcommand(1);

  auto generate = std::make_shared<KeysOptions>();
  CLI::App* generate_command = command->add_subcommand("generate", "Create a new key ring file (mode 0600) with one key");
  generate_command->add_option("--out", generate->file, "Key ring file to create (must not exist)")->required();
  generate_command->add_option("--id", generate->key_id, "Key id (default: k<UTC timestamp>)");
  generate_command->callback([generate, &exit_code] { exit_code = run_generate(*generate); });

  auto add = std::make_shared<KeysOptions>();
  CLI::App* add_command = command->add_subcommand("add", "Add a new key to a key ring file and make it the active one");
  add_command->add_option("--file", add->file, "Key ring file to update")->required()->check(CLI::ExistingFile);
  add_command->add_option("--id", add->key_id, "Key id (default: k<UTC timestamp>)");
  add_command->callback([add, &exit_code] { exit_code = run_add(*add); });
}

}  // namespace wik::cli
