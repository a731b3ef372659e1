// The architecture diagram as a test (STYLE.md, "Dependency rules"): every #include of a wik part's
// private header ("part/file.h") must name a part the including folder may depend on, and public
// headers (include/wik/) may include only other public headers.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace wik {
namespace {

namespace fs = std::filesystem;

// Which parts each part may include. A part may always include itself and the public <wik/...>.
// Keep this in step with STYLE.md and docs/architecture.md.
const std::map<std::string, std::set<std::string>>& allowed_dependencies() {
  static const std::set<std::string> kDuties = {"core", "config", "log", "http", "store", "graph"};
  static const std::map<std::string, std::set<std::string>> kRules = {
      {"core", {}},
      {"config", {"core"}},
      {"log", {"core"}},
      {"http", {"core", "log"}},
      {"graph", {"core", "log", "http"}},
      {"store", {"core", "log"}},
      {"install", kDuties},
      {"deauth", kDuties},
      {"webhooks", kDuties},
      {"bot", kDuties},
      {"i18n", kDuties},
      {"manifest", kDuties},
      {"admin", kDuties},
      {"identity", kDuties},
      {"app", {"core", "config", "log", "http", "store", "graph", "install", "deauth", "webhooks", "bot", "i18n",
               "manifest", "admin", "identity"}},
      {"emulator", {"core", "config", "log", "http"}},
      {"testing", {"core", "config", "log", "http", "store", "app", "emulator"}},
      {"cli", {"core", "config", "log", "http", "store", "graph", "manifest", "admin", "app", "emulator"}},
  };
  return kRules;
}

struct Violation {
  std::string file;
  int line;
  std::string included;
};

// Returns the part named by an include target such as "core/hmac.h", or "" when it names none.
std::string part_of_include(const std::string& target) {
  const std::size_t slash = target.find('/');
  if (slash == std::string::npos) return {};
  const std::string first = target.substr(0, slash);
  return allowed_dependencies().contains(first) ? first : std::string{};
}

// Returns the include target of a line like `#include "core/hmac.h"` or `#include <core/hmac.h>`.
std::string include_target(const std::string& line) {
  std::size_t i = line.find_first_not_of(" \t");
  if (i == std::string::npos || line.compare(i, 1, "#") != 0) return {};
  i = line.find_first_not_of(" \t", i + 1);
  if (i == std::string::npos || line.compare(i, 7, "include") != 0) return {};
  const std::size_t open = line.find_first_of("\"<", i + 7);
  if (open == std::string::npos) return {};
  const std::size_t close = line.find_first_of("\">", open + 1);
  if (close == std::string::npos) return {};
  return line.substr(open + 1, close - open - 1);
}

bool is_source(const fs::path& path) {
  const auto ext = path.extension();
  return ext == ".h" || ext == ".hpp" || ext == ".cpp" || ext == ".cc";
}

// Scans `root`/src and `root`/include and returns every include that breaks the rules.
std::vector<Violation> find_layering_violations(const fs::path& root) {
  std::vector<Violation> violations;
  auto scan = [&](const fs::path& file, const std::set<std::string>* allowed, const std::string& own_part) {
    std::ifstream in(file);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      const std::string target = include_target(line);
      const std::string part = part_of_include(target);
      if (part.empty() || part == own_part) continue;
      if (allowed == nullptr || !allowed->contains(part)) {
        violations.push_back({fs::relative(file, root).string(), number, target});
      }
    }
  };
  if (fs::exists(root / "src")) {
    for (const auto& part_dir : fs::directory_iterator(root / "src")) {
      if (!part_dir.is_directory()) continue;
      const std::string part = part_dir.path().filename().string();
      const auto rule = allowed_dependencies().find(part);
      for (const auto& entry : fs::recursive_directory_iterator(part_dir.path())) {
        if (!entry.is_regular_file() || !is_source(entry.path())) continue;
        if (rule == allowed_dependencies().end()) {
          violations.push_back({fs::relative(entry.path(), root).string(), 0, "(folder not in the rules: " + part + ")"});
          break;
        }
        scan(entry.path(), &rule->second, part);
      }
    }
  }
  if (fs::exists(root / "include")) {
    for (const auto& entry : fs::recursive_directory_iterator(root / "include")) {
      if (entry.is_regular_file() && is_source(entry.path())) scan(entry.path(), nullptr, "");
    }
  }
  return violations;
}

std::string describe(const std::vector<Violation>& violations) {
  std::string text;
  for (const auto& v : violations) text += v.file + ":" + std::to_string(v.line) + " includes " + v.included + "\n";
  return text;
}

TEST(LayeringTest, TheSourceTreeFollowsTheDependencyRules) {
  const char* source_dir = std::getenv("WIK_SOURCE_DIR");
  ASSERT_NE(source_dir, nullptr) << "WIK_SOURCE_DIR is not set (CTest sets it)";
  ASSERT_TRUE(fs::exists(fs::path(source_dir) / "src" / "core")) << source_dir;
  const auto violations = find_layering_violations(source_dir);
  EXPECT_TRUE(violations.empty()) << describe(violations);
}

TEST(LayeringTest, CatchesForbiddenIncludes) {
  testing::TempDir tree;
  fs::create_directories(tree.path() / "src" / "core");
  fs::create_directories(tree.path() / "src" / "emulator");
  fs::create_directories(tree.path() / "src" / "gadgets");
  fs::create_directories(tree.path() / "include" / "wik");
  tree.write_file("src/core/hmac.cpp", "#include \"core/hmac.h\"\n#include <wik/result.h>\n#include \"log/logger.h\"\n");
  tree.write_file("src/emulator/state.cpp", "#include \"http/server.h\"\n  #  include <install/flow.h>\n");
  tree.write_file("src/gadgets/x.cpp", "int x;\n");
  tree.write_file("include/wik/app.h", "#include <wik/result.h>\n#include \"core/secret.h\"\n");

  const auto violations = find_layering_violations(tree.path());
  ASSERT_EQ(violations.size(), 4u) << describe(violations);
  const std::string text = describe(violations);
  EXPECT_NE(text.find("src/core/hmac.cpp:3 includes log/logger.h"), std::string::npos) << text;
  EXPECT_NE(text.find("src/emulator/state.cpp:2 includes install/flow.h"), std::string::npos) << text;
  EXPECT_NE(text.find("folder not in the rules: gadgets"), std::string::npos) << text;
  EXPECT_NE(text.find("include/wik/app.h:2 includes core/secret.h"), std::string::npos) << text;
}

}  // namespace
}  // namespace wik
