// The B5 scan's positive control (docs/RELIABILITY.md): capture directories written by hand in
// the format of core/output_capture.h, with secrets planted where the scan must find them (a
// response body, a log line, a percent-encoded redirect, encoded forms) and where it must not
// (a protocol carrier, values too short to search), and a clean capture that must report nothing.
#include "reliability/secret_scan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include <fmt/format.h>

#include "core/base64url.h"
#include "support/result_matchers.h"
#include "support/temp_dir.h"

namespace wik::reliability {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using wik::testing::HasError;

// A token with characters a URL must percent-encode, and a proof (PROTOCOL.md's known answer).
constexpr std::string_view kToken = "WIKCANARY0123456789/abcdefghij+klmnopqrstuv";
constexpr std::string_view kProof = "7cfe7587992f32d02c0b1e2fc112522ac809b522bb484a7baad688b5b9b68c60";

std::string record(std::string_view type, std::string_view label, std::string_view payload) {
  return "@" + std::string(type) + " " + std::to_string(payload.size()) + " " + std::string(label) + "\n" +
         std::string(payload) + "\n";
}

std::string response(std::string_view head, std::string_view body) {
  return std::string(head) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

// One process's capture: its secrets and its outputs.
struct Process {
  std::string secrets;
  std::string outputs;
};

class SecretScanTest : public ::testing::Test {
 protected:
  void write(std::string_view name, const Process& process) {
    dir_.write_file(std::string(name) + ".secrets", process.secrets);
    dir_.write_file(std::string(name) + ".outputs", process.outputs);
  }

  ScanReport scan() {
    auto report = scan_capture(dir_.path());
    EXPECT_TRUE(report.ok()) << report.error().reason();
    return report.ok() ? std::move(report).value() : ScanReport{};
  }

  static std::string describe(const ScanReport& report) {
    std::string text = report_line(report) + "\n";
    for (const auto& f : report.findings) text += f.secret_kind + " in " + f.output + " (" + f.form + ")\n";
    return text;
  }

  wik::testing::TempDir dir_;
};

TEST_F(SecretScanTest, FindsASecretInABodyALogLineAndAPercentEncodedRedirect) {
  // The token is known to one process (the kit) and leaks from another (the emulator), as across
  // the processes of a test run.
  write("100-1", {.secrets = record("secret", "secret", kToken), .outputs = ""});
  write("200-1",
        {.secrets = "",
         .outputs =
             record("response", "kit GET /done /done",
                    response("HTTP/1.1 200 OK\r\nContent-Type: text/html", "<p>token " + std::string(kToken))) +
             record("log", "wik", "install finished with " + std::string(kToken)) +
             record("response", "emulator-web POST /dialog /dialog",
                    response("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/done?next=WIKCANARY0123456789%2Fabc"
                             "defghij%2Bklmnopqrstuv&x=1",
                             ""))});

  const ScanReport report = scan();
  EXPECT_EQ(report_line(report), "B5 secrets: processes=2, log lines=1, responses=2, secrets=1, found=3");
  ASSERT_EQ(report.findings.size(), 3u) << describe(report);
  EXPECT_EQ(report.findings[0].output, "response kit GET /done /done body");
  EXPECT_EQ(report.findings[0].form, "as is");
  EXPECT_EQ(report.findings[1].output, "log wik");
  EXPECT_EQ(report.findings[2].output, "response emulator-web POST /dialog /dialog header Location");
  EXPECT_EQ(report.findings[2].form, "as is, percent-decoded");
  for (const Finding& finding : report.findings) {
    EXPECT_EQ(finding.file, "200-1.outputs");
    EXPECT_EQ(finding.secret_kind, "secret");
    EXPECT_EQ(finding.secret_hash.size(), 12u);
    EXPECT_THAT(finding.output + finding.form + finding.secret_hash, Not(HasSubstr("WIKCANARY")));
  }
}

TEST_F(SecretScanTest, ACleanCaptureFindsNothing) {
  write("100-1", {.secrets = record("secret", "secret", kToken) +
                             record("appsecret_proof", "appsecret_proof", kProof),
                  .outputs = record("log", "wik", "install finished with [redacted]") +
                             record("response", "kit GET /done /done",
                                    response("HTTP/1.1 302 Found\r\nLocation: /admin?community=365231294836471", ""))});

  const ScanReport report = scan();
  EXPECT_EQ(report_line(report), "B5 secrets: processes=1, log lines=1, responses=1, secrets=2, found=0")
      << describe(report);
}

TEST_F(SecretScanTest, ACarrierMayCarryOnlyItsOwnValue) {
  constexpr std::string_view kAppSecret = "test-app-secret";
  constexpr std::string_view kState = "Zm9yZ2VkLXN0YXRlLXZhbHVl";
  constexpr std::string_view kSessions[] = {"c2Vzc2lvbi1vbmUtaWQ", "c2Vzc2lvbi10d28taWQ"};
  const std::string token_answer = R"({"access_token":")" + std::string(kToken) + R"(","token_type":"bearer"})";
  const std::string echoing_answer =
      R"({"access_token":")" + std::string(kToken) + R"(","client_secret":")" + std::string(kAppSecret) + R"("})";
  const std::string nested_state = "/signin?next=%2Fdialog%2Fwork%2Fapp_install%3Fapp_id%3D1%26state%3D" +
                                   std::string(kState);
  write("100-1",
        {.secrets = record("secret", "secret", kToken) + record("registered", "registered", kAppSecret) +
                    record("secret", "secret", kState) + record("secret", "secret", kSessions[0]) +
                    record("secret", "secret", kSessions[1]),
         .outputs =
             record("response", "emulator-graph POST /{s1}/{s2}/{s3} /v17.0/oauth/access_token",
                    response("HTTP/1.1 200 OK", token_answer)) +
             record("response", "emulator-graph GET /{s1}/{s2} /oauth/access_token",
                    response("HTTP/1.1 200 OK", echoing_answer)) +
             record("response", "kit POST /{s1}/{s2} /oauth/access_token", response("HTTP/1.1 200 OK", token_answer)) +
             record("response", "emulator-graph GET /{s1} /community", response("HTTP/1.1 200 OK", token_answer)) +
             record("response", "emulator-web GET /dialog/work/app_install /dialog/work/app_install",
                    response("HTTP/1.1 303 See Other\r\nLocation: " + nested_state, "")) +
             record("response", "emulator-web GET /dialog/work/app_install /dialog/work/app_install",
                    response("HTTP/1.1 303 See Other\r\nLocation: " + nested_state + "%26t%3D" + std::string(kToken),
                             "")) +
             record("response", "unnamed POST /signin /signin",
                    response("HTTP/1.1 303 See Other\r\nSet-Cookie: wik_sessions=" + std::string(kSessions[0]) + "." +
                                 std::string(kSessions[1]) + "; Path=/; HttpOnly",
                             ""))});

  const ScanReport report = scan();
  ASSERT_EQ(report.findings.size(), 4u) << describe(report);
  EXPECT_EQ(report.findings[0].output, "response emulator-graph GET /{s1}/{s2} /oauth/access_token body");
  EXPECT_EQ(report.findings[0].secret_kind, "registered");
  EXPECT_EQ(report.findings[1].output, "response kit POST /{s1}/{s2} /oauth/access_token body");
  EXPECT_EQ(report.findings[2].output, "response emulator-graph GET /{s1} /community body");
  EXPECT_EQ(report.findings[3].output,
            "response emulator-web GET /dialog/work/app_install /dialog/work/app_install header Location");
  EXPECT_EQ(report.findings[3].form, "as is");
  // The two answers of the token endpoint carry the token, the two redirects the state, and a test's
  // own server the kit's session cookie with two session ids.
  EXPECT_EQ(report.carried_values, 6u);
}

TEST_F(SecretScanTest, FindsEncodedFormsAndIgnoresShortValuesAndFillers) {
  std::string key;  // a binary key, 0x90 to 0xaf
  std::string key_hex;
  for (int i = 0; i < 32; ++i) {
    key.push_back(static_cast<char>(0x90 + i));
    key_hex += fmt::format("{:02x}", 0x90 + i);
  }
  const std::string signed_payload = core::base64url_encode(R"({"note":")" + std::string(kToken) + R"("})");
  write("100-1", {.secrets = record("secret", "secret", kToken) + record("secret", "secret", key) +
                             record("registered", "registered", "short") +
                             record("hub_signature", "hub_signature", std::string(64, 'c')),
                  .outputs = record("log", "wik", "key " + key_hex) + record("log", "wik", "payload " + signed_payload) +
                             record("log", "wik", "json {\"v\":\"WIKCANARY0123456789\\/abcdefghij+klmnopqrstuv\"}") +
                             record("log", "wik", "a short value: short; a filler: " + std::string(80, 'c'))});

  const ScanReport report = scan();
  EXPECT_EQ(report.short_secrets, 2u);
  EXPECT_EQ(report.secrets, 2u);
  ASSERT_EQ(report.findings.size(), 3u) << describe(report);
  EXPECT_EQ(report.findings[0].form, "hex");
  EXPECT_EQ(report.findings[1].form, "base64");  // this payload's text is the same in both alphabets
  EXPECT_EQ(report.findings[2].form, "as is, JSON-unescaped");
}

TEST_F(SecretScanTest, ACutOffLastRecordIsCountedAndAForeignFileRefused) {
  write("100-1", {.secrets = record("secret", "secret", kToken),
                  .outputs = record("log", "wik", std::string(kToken)) + "@log 500 wik\nonly part of it"});
  const ScanReport report = scan();
  EXPECT_EQ(report.truncated_files, 1u);
  EXPECT_EQ(report.log_lines, 1u);
  EXPECT_EQ(report.findings.size(), 1u);

  dir_.write_file("300-1.outputs", "not a capture\n");
  EXPECT_THAT(scan_capture(dir_.path()), HasError(ErrorCode::kMalformed));
  EXPECT_THAT(scan_capture(dir_.path() / "missing"), HasError(ErrorCode::kNotFound));
}

}  // namespace
}  // namespace wik::reliability
