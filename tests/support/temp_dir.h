// TempDir: a fresh directory under the system temp directory, removed with everything in it when
// the object goes out of scope. For tests that need files (configuration, secrets, databases).
#pragma once

#include <filesystem>
#include <string>

namespace wik::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  // Writes `contents` to `name` inside the directory and returns its path.
  std::filesystem::path write_file(const std::string& name, const std::string& contents) const;

 private:
  std::filesystem::path path_;
};

}  // namespace wik::testing
