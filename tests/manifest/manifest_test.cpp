#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <png.h>

#include <ostream>
#include <string>
#include <vector>

#include "manifest/icon.h"
#include "manifest/manifest.h"
#include "manifest/manifest_check.h"
#include "support/result_matchers.h"
#include "support/temp_dir.h"

namespace wik::manifest {

// Prints a finding readably in failure messages (found by argument-dependent lookup).
void PrintTo(const Finding& finding, std::ostream* out) {
  *out << (finding.severity == Severity::kError ? "error " : "warning ") << finding.field << ": " << finding.message;
}

namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using wik::testing::HasError;
using wik::testing::IsOk;

enum class Background { kTransparent, kOpaque };

// Writes a PNG of the given size: RGBA (or RGB when !alpha), a filled circle in the middle, the
// rest transparent or opaque.
std::string write_png(const testing::TempDir& dir, const std::string& name, std::uint32_t side, bool alpha,
                      Background background = Background::kTransparent) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = side;
  image.height = side;
  image.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  const std::size_t channels = alpha ? 4 : 3;
  std::vector<png_byte> pixels(std::size_t{side} * side * channels, 0);
  const double centre = side / 2.0;
  for (std::uint32_t y = 0; y < side; ++y) {
    for (std::uint32_t x = 0; x < side; ++x) {
      const bool inside = (x - centre) * (x - centre) + (y - centre) * (y - centre) < centre * centre * 0.8;
      png_byte* pixel = &pixels[(std::size_t{y} * side + x) * channels];
      pixel[0] = 0x20;
      pixel[1] = 0x60;
      pixel[2] = 0xd0;
      if (alpha) pixel[3] = (inside || background == Background::kOpaque) ? 0xff : 0x00;
    }
  }
  const auto path = dir.path() / name;
  EXPECT_NE(png_image_write_to_file(&image, path.c_str(), 0, pixels.data(), 0, nullptr), 0) << image.message;
  return name;
}

// A manifest that passes every check; tests change one thing each.
std::string valid_manifest(const std::string& icon, const std::string& extra = "") {
  return R"(id = "1111222233334444"
name = "Helpdesk"
icon = ")" + icon + R"("
redirect_url = "https://vendor.example/workplace/install"
deauthorize_url = "https://vendor.example/workplace/deauthorize"
tagline = "Tickets from Work Chat"
description = "Employees message the bot to open and follow IT tickets."
publisher = "Example Ltd"
marketing_url = "https://vendor.example"
terms_url = "https://vendor.example/terms"
privacy_url = "https://vendor.example/privacy"
support = "support@vendor.example"
default_locale = "en_US"
permissions = ["message", "bot_mention"]
)" + extra + R"(
[webhooks]
page = ["messages", "messaging_postbacks", "mention"]
)";
}

class ManifestTest : public ::testing::Test {
 protected:
  AppManifest load(const std::string& text) {
    const auto file = dir_.write_file("app.toml", text);
    auto manifest = load_manifest(file);
    EXPECT_THAT(manifest, IsOk());
    return manifest.ok() ? *manifest : AppManifest{};
  }
  std::string icon() { return write_png(dir_, "icon.png", 1024, true); }

  testing::TempDir dir_;
};

auto FindingOn(Severity severity, const std::string& field, const std::string& text) {
  return AllOf(Field(&Finding::severity, severity), Field(&Finding::field, field),
               Field(&Finding::message, HasSubstr(text)));
}

TEST_F(ManifestTest, LoadsEveryFieldAndResolvesTheIconAgainstTheManifestFolder) {
  const auto manifest = load(valid_manifest(icon()));
  EXPECT_EQ(manifest.id, "1111222233334444");
  EXPECT_EQ(manifest.name, "Helpdesk");
  EXPECT_EQ(manifest.icon, dir_.path() / "icon.png");
  EXPECT_EQ(manifest.support, "support@vendor.example");
  EXPECT_THAT(manifest.permissions, ElementsAre("message", "bot_mention"));
  EXPECT_THAT(manifest.webhooks.at("page"), ElementsAre("messages", "messaging_postbacks", "mention"));
  EXPECT_THAT(check_manifest(manifest), IsEmpty());
}

TEST_F(ManifestTest, LoadingNamesTheKeyOfAWrongTypeOrAnUnknownKey) {
  EXPECT_THAT(load_manifest(dir_.write_file("a.toml", "tagline = 7\n")),
              HasError(ErrorCode::kConfig, AllOf(HasSubstr("tagline"), HasSubstr("a.toml:1"), HasSubstr("string"))));
  EXPECT_THAT(load_manifest(dir_.write_file("b.toml", "permissions = [\"message\", 3]\n")),
              HasError(ErrorCode::kConfig, HasSubstr("permissions")));
  EXPECT_THAT(load_manifest(dir_.write_file("c.toml", "taglin = \"x\"\n")),
              HasError(ErrorCode::kConfig, HasSubstr("unknown key taglin")));
  EXPECT_THAT(load_manifest(dir_.write_file("d.toml", "[webhooks]\npage = \"messages\"\n")),
              HasError(ErrorCode::kConfig, HasSubstr("webhooks.page")));
  EXPECT_THAT(load_manifest(dir_.write_file("e.toml", "name = \"unterminated\n")),
              HasError(ErrorCode::kMalformed, HasSubstr("invalid TOML")));
  EXPECT_THAT(load_manifest(dir_.path() / "missing.toml"), HasError(ErrorCode::kNotFound));
}

TEST_F(ManifestTest, ReportsEveryProblemAtOnceWithItsField) {
  auto manifest = load(valid_manifest(write_png(dir_, "small.png", 512, false)));
  manifest.tagline = "A tagline that is far too long for the directory listing";
  manifest.description = std::string(51 * 3, ' ');
  for (int i = 0; i < 51; ++i) manifest.description += "word ";
  manifest.terms_url = "http://vendor.example/terms";
  manifest.privacy_url.clear();
  manifest.permissions = {"message", "read_group_content", "manage_accounts"};
  manifest.webhooks = {{"page", {"messages", "unknown_field"}}, {"channel", {"x"}}, {"group", {"posts"}}};

  const auto findings = check_manifest(manifest);
  EXPECT_TRUE(has_errors(findings));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "tagline", "at most 40")));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "description", "51 words")));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "icon", "1024x1024")));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "icon", "no alpha channel")));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "terms_url", "https")));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "privacy_url", "missing")));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "permissions[1]", "not a Workplace permission")));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "permissions[2]", "not available to third-party")));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "webhooks.page[1]", "not a field of the page object")));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "webhooks.channel", "not a webhook object")));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kWarning, "webhooks.group[0]", "read_group")));
  // Errors come before warnings.
  const auto first_warning = std::find_if(findings.begin(), findings.end(),
                                          [](const Finding& f) { return f.severity == Severity::kWarning; });
  EXPECT_TRUE(std::none_of(first_warning, findings.end(),
                           [](const Finding& f) { return f.severity == Severity::kError; }));
}

TEST_F(ManifestTest, CountsTaglineCharactersNotBytes) {
  auto manifest = load(valid_manifest(icon()));
  manifest.tagline = "Tickets généraux à la demande, très vite";  // 40 characters, more bytes
  EXPECT_THAT(check_manifest(manifest), IsEmpty());
  manifest.tagline = "\xff\xfe";
  EXPECT_THAT(check_manifest(manifest), Contains(FindingOn(Severity::kError, "tagline", "UTF-8")));
}

TEST_F(ManifestTest, RefusesAnIconWithAnOpaqueBackground) {
  auto manifest = load(valid_manifest(write_png(dir_, "opaque.png", 1024, true, Background::kOpaque)));
  EXPECT_THAT(check_manifest(manifest), ElementsAre(FindingOn(Severity::kError, "icon", "opaque background")));
}

TEST_F(ManifestTest, RefusesAnIconThatIsNotAPngOrIsMissing) {
  auto manifest = load(valid_manifest("icon.png"));
  EXPECT_THAT(check_manifest(manifest), ElementsAre(FindingOn(Severity::kError, "icon", "cannot read")));
  dir_.write_file("icon.png", "GIF89a not a png at all");
  EXPECT_THAT(check_manifest(manifest), ElementsAre(FindingOn(Severity::kError, "icon", "not a valid PNG")));
  std::string truncated = "\x89PNG\r\n\x1a\n";
  dir_.write_file("icon.png", truncated);
  EXPECT_THAT(check_manifest(manifest), ElementsAre(FindingOn(Severity::kError, "icon", "not a valid PNG")));
}

TEST_F(ManifestTest, InspectsIconFacts) {
  const auto facts = inspect_png(dir_.path() / write_png(dir_, "i.png", 64, true));
  ASSERT_THAT(facts, IsOk());
  EXPECT_EQ(facts->width, 64u);
  EXPECT_EQ(facts->height, 64u);
  EXPECT_TRUE(facts->has_alpha);
  EXPECT_TRUE(facts->transparent_corners);
}

TEST_F(ManifestTest, AcceptsPlainHttpOnlyForLoopbackHosts) {
  auto manifest = load(valid_manifest(icon()));
  manifest.redirect_url = "http://127.0.0.1:8080/workplace/install";
  manifest.deauthorize_url = "http://localhost:8080/workplace/deauthorize";
  EXPECT_THAT(check_manifest(manifest), IsEmpty());
  manifest.redirect_url = "http://127.0.0.1.evil.example/install";
  manifest.deauthorize_url = "javascript:alert(1)";
  const auto findings = check_manifest(manifest);
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "redirect_url", "invalid URL host")));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "deauthorize_url", "not a valid absolute URL")));
  manifest.redirect_url = "http://vendor.example/install";
  EXPECT_THAT(check_manifest(manifest), Contains(FindingOn(Severity::kError, "redirect_url", "must use https")));
}

TEST_F(ManifestTest, ChecksTheIdSupportContactAndLocale) {
  auto manifest = load(valid_manifest(icon()));
  manifest.id = "12ab";
  manifest.support = "not a contact";
  manifest.default_locale = "english";
  const auto findings = check_manifest(manifest);
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "id", "decimal")));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "support", "neither an email")));
  EXPECT_THAT(findings, Contains(FindingOn(Severity::kError, "default_locale", "en_US")));
  manifest.id = "1";
  manifest.support = "https://vendor.example/help";
  manifest.default_locale = "fr_CA";
  EXPECT_THAT(check_manifest(manifest), IsEmpty());
}

TEST_F(ManifestTest, WarnsAboutPermissionsNoHandlerNeeds) {
  const auto manifest = load(valid_manifest(icon()));
  const auto findings = check_manifest(manifest, {.needed_permissions = std::set<std::string>{"message"}});
  EXPECT_FALSE(has_errors(findings));
  EXPECT_THAT(findings, ElementsAre(FindingOn(Severity::kWarning, "permissions[1]", "no registered handler")));
}

TEST_F(ManifestTest, TheWithheldSetFollowsTheConfiguredRule) {
  auto manifest = load(valid_manifest(icon()));
  manifest.permissions = {"message", "bot_mention", "manage_accounts"};
  EXPECT_TRUE(has_errors(check_manifest(manifest)));
  EXPECT_THAT(check_manifest(manifest, {.withheld = WithheldRule::kCurrent}), IsEmpty());
  manifest.permissions.push_back("impersonate_account");
  EXPECT_THAT(check_manifest(manifest, {.withheld = WithheldRule::kCurrent}),
              ElementsAre(FindingOn(Severity::kError, "permissions[3]", "not available to third-party")));
}

TEST_F(ManifestTest, HostileTextIsQuotedPrintably) {
  auto manifest = load(valid_manifest(icon()));
  manifest.permissions = {"message\x1b[31m\n"};
  const auto findings = check_manifest(manifest);
  ASSERT_FALSE(findings.empty());
  EXPECT_THAT(findings.front().message, AllOf(HasSubstr("\\x1b"), HasSubstr("\\x0a")));
}

}  // namespace
}  // namespace wik::manifest
