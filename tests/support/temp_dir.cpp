#include "support/temp_dir.h"

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace wik::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "wik-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path TempDir::write_file(const std::string& name, const std::string& contents) const {
  const auto file = path_ / name;
  std::ofstream(file, std::ios::binary) << contents;
  return file;
}

}  // namespace wik::testing
