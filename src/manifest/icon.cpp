#include "manifest/icon.h"

#include <png.h>

#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

namespace wik::manifest {
namespace {

// Frees libpng's decoder state on every path out of inspect_png.
class PngImage {
 public:
  PngImage() { image_.version = PNG_IMAGE_VERSION; }
  ~PngImage() { png_image_free(&image_); }
  PngImage(const PngImage&) = delete;
  PngImage& operator=(const PngImage&) = delete;
  png_image* get() noexcept { return &image_; }

 private:
  png_image image_{};
};

Result<std::string> read_bounded(const std::filesystem::path& file) {
  std::error_code error;
  const auto size = std::filesystem::file_size(file, error);
  if (error) return Error(ErrorCode::kNotFound, "cannot read " + file.string() + ": " + error.message());
  if (size > kMaxIconFileBytes) {
    return Error(ErrorCode::kTooLarge, file.string() + " is larger than " + std::to_string(kMaxIconFileBytes) + " bytes");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot open " + file.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() > kMaxIconFileBytes) return Error(ErrorCode::kTooLarge, file.string() + " grew while being read");
  return bytes;
}

}  // namespace

Result<IconFacts> inspect_png(const std::filesystem::path& file) {
  auto bytes = read_bounded(file);
  if (!bytes.ok()) return bytes.error();

  PngImage image;
  if (png_image_begin_read_from_memory(image.get(), bytes->data(), bytes->size()) == 0) {
    return Error(ErrorCode::kMalformed, file.string() + " is not a valid PNG", image.get()->message);
  }
  IconFacts facts;
  facts.width = image.get()->width;
  facts.height = image.get()->height;
  facts.has_alpha = (image.get()->format & PNG_FORMAT_FLAG_ALPHA) != 0;
  if (facts.width > kMaxIconDimension || facts.height > kMaxIconDimension) {
    return Error(ErrorCode::kTooLarge, file.string() + " is larger than " + std::to_string(kMaxIconDimension) +
                                          " pixels on a side");
  }
  if (!facts.has_alpha) return facts;

  image.get()->format = PNG_FORMAT_RGBA;
  std::vector<png_byte> pixels(PNG_IMAGE_SIZE(*image.get()));
  if (png_image_finish_read(image.get(), nullptr, pixels.data(), 0, nullptr) == 0) {
    return Error(ErrorCode::kMalformed, file.string() + " is not a valid PNG", image.get()->message);
  }
  const std::size_t width = facts.width;
  const std::size_t height = facts.height;
  auto alpha_at = [&](std::size_t x, std::size_t y) { return pixels[(y * width + x) * 4 + 3]; };
  facts.transparent_corners = alpha_at(0, 0) == 0 && alpha_at(width - 1, 0) == 0 && alpha_at(0, height - 1) == 0 &&
                              alpha_at(width - 1, height - 1) == 0;
  return facts;
}

}  // namespace wik::manifest
