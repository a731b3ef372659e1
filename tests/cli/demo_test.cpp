// `wik demo` as a newcomer runs it, with `wik serve` standing in for the helpdesk (an integration
// with no handlers: it reads the same configuration and serves the same platform routes, /healthz,
// /readyz and the webhook callback among them), started through a script that execs it, as the
// demo starts any program it is given: the first run fills a private data folder, starts
// the emulator and the integration, subscribes the app's webhooks and prints both URLs and the
// vendor admin's password; Ctrl-C stops everything and leaves no process behind; a second run
// reuses the folder; an unusable or damaged folder, or an integration that dies, is a clear error.
// The app secret and the verify token never appear in what it prints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http/client/client.h"
#include "support/command.h"
#include "support/result_matchers.h"
#include "support/run_coroutine.h"
#include "support/temp_dir.h"

namespace wik {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using wik::testing::CommandResult;
using wik::testing::IsOk;
using wik::testing::run_command;
using wik::testing::shell_quote;

constexpr const char* kEnvironment = "PATH=/usr/local/bin:/usr/bin:/bin";
// The secret scan's capture directory (scripts/test.sh), passed on through `env -i` when it is set.
constexpr const char* kCaptureDir = "${WIK_CAPTURE_DIR:+WIK_CAPTURE_DIR=\"$WIK_CAPTURE_DIR\"}";
// The line `wik demo` prints last once everything runs.
constexpr const char* kRunningMarker = "Press Ctrl-C to stop.";
const char* const kIdentityFiles[] = {"keys.ring", "app-id", "app-secret", "verify-token", "admin-password"};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Returns a socket bound to a free loopback port, and the port (fd -1 when none could be bound).
std::pair<int, std::uint16_t> bound_loopback_socket() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  socklen_t size = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    ::close(fd);
    return {-1, 0};
  }
  return {fd, ntohs(address.sin_port)};
}

// Returns a loopback port nothing listens on right now.
std::uint16_t free_port() {
  const auto [fd, port] = bound_loopback_socket();
  if (fd >= 0) ::close(fd);
  return port;
}

// Returns the first group of `pattern` in `text`, or "".
std::string first_match(const std::string& text, const std::string& pattern) {
  std::smatch match;
  return std::regex_search(text, match, std::regex(pattern)) ? match[1].str() : std::string();
}

// Returns the status of GET `url`, or 0 when it did not answer.
unsigned get_status(const std::string& url) {
  boost::asio::io_context io;
  auto client = http::Client::create({.allow_plain_http = true});
  if (!client) return 0;
  http::ClientRequest request{.url = url};
  const auto response = wik::testing::run_coroutine(io, (*client)->request(std::move(request)));
  return response ? response->status : 0;
}

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// A `wik demo` child process, its standard output and error read until it printed kRunningMarker
// (or exited, or 60 s passed). Destroying one that still runs kills it and its integration.
class DemoProcess {
 public:
  DemoProcess(const std::filesystem::path& data, std::uint16_t port, const std::string& integration) {
    int out[2];
    if (::pipe(out) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, out[1]);
    std::vector<std::string> args = {WIK_CLI_PATH,       "demo",   "--data",       data.string(), "--port",
                                     std::to_string(port), "--workplace-port", "0", "--graph-port", "0",
                                     "--integration",      integration};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::string path = kEnvironment;
    const char* capture_dir = std::getenv("WIK_CAPTURE_DIR");  // the secret scan's (scripts/test.sh)
    std::string capture = capture_dir != nullptr ? std::string("WIK_CAPTURE_DIR=") + capture_dir : std::string();
    char* environment[] = {path.data(), capture.empty() ? nullptr : capture.data(), nullptr};
    if (::posix_spawn(&pid_, WIK_CLI_PATH, &actions, nullptr, argv.data(), environment) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    out_ = out[0];
    read_until(kRunningMarker, std::chrono::seconds(60));
  }
  ~DemoProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (const pid_t child = integration_pid(); child > 0 && process_exists(child)) ::kill(child, SIGKILL);
    if (out_ >= 0) ::close(out_);
  }
  DemoProcess(const DemoProcess&) = delete;
  DemoProcess& operator=(const DemoProcess&) = delete;

  // Returns what it printed so far.
  const std::string& output() const { return output_; }
  bool running() const { return output_.find(kRunningMarker) != std::string::npos; }
  // Returns the integration's process id, as printed, or 0.
  pid_t integration_pid() const {
    const std::string pid = first_match(output_, R"(process ([0-9]+)\))");
    return pid.empty() ? 0 : static_cast<pid_t>(std::stoi(pid));
  }

  // Sends `signal`, reads the rest of the output and returns the wait status (-1 when the demo
  // had not exited within `limit` and was killed).
  int finish(int signal, std::chrono::milliseconds limit) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    return wait(limit);
  }
  int wait(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    read_until("", limit);  // to the end of the output
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        status = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = 0;
    return status;
  }

 private:
  // Reads the output until it holds `marker` (until its end for ""), it ends, or `limit` passes.
  void read_until(const std::string& marker, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (marker.empty() || output_.find(marker) == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd readable{out_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) <= 0) return;
      char buffer[1024];
      const ssize_t n = ::read(out_, buffer, sizeof buffer);
      if (n <= 0) return;
      output_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  pid_t pid_ = 0;
  int out_ = -1;
  std::string output_;
};

class DemoCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    integration_ = dir_.write_file("integration", "#!/bin/sh\nexec " + shell_quote(WIK_CLI_PATH) + " serve\n").string();
    std::filesystem::permissions(integration_, std::filesystem::perms::owner_all);
  }

  std::filesystem::path data() const { return dir_.path() / "wik-demo"; }

  // Runs `wik demo ARGS` to its end with a clean environment, the integration on `port`.
  CommandResult demo(const std::string& args, std::uint16_t port = free_port()) {
    return run_command(std::string("env -i ") + kEnvironment + " " + kCaptureDir + " " + shell_quote(WIK_CLI_PATH) +
                       " demo " + args +
                       " --integration " + shell_quote(integration_) + " --port " + std::to_string(port) +
                       " --workplace-port 0 --graph-port 0");
  }

  // Expects that `text` holds neither the app secret nor the verify token of the data folder.
  void expect_no_secret(const std::string& text) const {
    for (const char* secret : {"app-secret", "verify-token"}) {
      std::string value = read_file(data() / secret);
      while (!value.empty() && value.back() == '\n') value.pop_back();
      ASSERT_FALSE(value.empty()) << secret;
      EXPECT_THAT(text, Not(HasSubstr(value))) << secret;
    }
  }

  wik::testing::TempDir dir_;
  std::string integration_;
};

TEST_F(DemoCliTest, FirstRunMakesAPrivateFolderServesBothHostsSubscribesAndStopsOnCtrlC) {
  const std::uint16_t port = free_port();
  DemoProcess running(data(), port, integration_);
  ASSERT_TRUE(running.running()) << running.output();
  const std::string& out = running.output();

  struct stat info {};
  ASSERT_EQ(::stat(data().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  for (const auto& entry : std::filesystem::directory_iterator(data())) {
    ASSERT_EQ(::stat(entry.path().c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u) << entry.path();
  }
  for (const char* name : kIdentityFiles) EXPECT_TRUE(std::filesystem::exists(data() / name)) << name;
  EXPECT_THAT(read_file(data() / "app-id"), ::testing::MatchesRegex("[1-9][0-9]{14,15}\n"));

  const std::string integration = "http://127.0.0.1:" + std::to_string(port);
  const std::string workplace = first_match(out, R"(Workplace \(the emulator\) +(http://127\.0\.0\.1:[0-9]+)\n)");
  ASSERT_FALSE(workplace.empty()) << out;
  EXPECT_THAT(out, HasSubstr("Helpdesk admin page        " + integration + "/admin\n"));
  EXPECT_THAT(out, HasSubstr("Ada Admin (ada@acme.example)"));
  std::string password = read_file(data() / "admin-password");
  password.pop_back();
  EXPECT_THAT(out, HasSubstr("admin@helpdesk.example, password " + password + "\n"));
  EXPECT_THAT(out, HasSubstr("Add to Workplace"));

  EXPECT_EQ(get_status(integration + "/healthz"), 200u);
  EXPECT_EQ(get_status(workplace + "/"), 200u);

  // The webhooks are subscribed to the integration's callback: what `wik subscriptions` sees with
  // the integration's own configuration.
  const auto subscriptions = run_command(std::string("env -i ") + kEnvironment + " " + kCaptureDir + " WIK_CONFIG=" +
                                         shell_quote((data() / "wik.toml").string()) + " " +
                                         shell_quote(WIK_CLI_PATH) + " subscriptions list");
  ASSERT_EQ(subscriptions.exit_status, 0) << subscriptions.err;
  EXPECT_THAT(subscriptions.out, ::testing::ContainsRegex("page +mention, messages, messaging_postbacks +" + integration +
                                                          "/workplace/webhook"));
  // The manifest passes the platform's review but for the icon a real app would add.
  const auto check = run_command(shell_quote(WIK_CLI_PATH) + " manifest check " + shell_quote((data() / "app.toml").string()));
  EXPECT_THAT(check.out, HasSubstr("1 error(s), 0 warning(s)"));
  EXPECT_THAT(check.out, HasSubstr("error: icon:"));

  const pid_t child = running.integration_pid();
  ASSERT_GT(child, 0) << out;
  ASSERT_TRUE(process_exists(child));
  const auto started = std::chrono::steady_clock::now();
  const int status = running.finish(SIGINT, std::chrono::seconds(10));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  ASSERT_TRUE(WIFEXITED(status)) << status << running.output();
  EXPECT_EQ(WEXITSTATUS(status), 0) << running.output();
  EXPECT_FALSE(process_exists(child));
  EXPECT_THAT(running.output(), HasSubstr("wik demo: stopped\n"));
  EXPECT_EQ(get_status(integration + "/healthz"), 0u);
  expect_no_secret(running.output());
}

TEST_F(DemoCliTest, ALaterRunReusesTheFolderOnOtherPorts) {
  DemoProcess first(data(), free_port(), integration_);
  ASSERT_TRUE(first.running()) << first.output();
  ASSERT_EQ(first.finish(SIGTERM, std::chrono::seconds(10)), 0) << first.output();
  EXPECT_THAT(first.output(), HasSubstr("wik demo: created "));
  std::vector<std::string> identity;
  for (const char* name : kIdentityFiles) identity.push_back(read_file(data() / name));

  const std::uint16_t port = free_port();
  DemoProcess second(data(), port, integration_);
  ASSERT_TRUE(second.running()) << second.output();
  EXPECT_THAT(second.output(), HasSubstr("wik demo: using "));
  for (std::size_t i = 0; i < identity.size(); ++i) {
    EXPECT_EQ(read_file(data() / kIdentityFiles[i]), identity[i]) << kIdentityFiles[i];
  }
  std::string password = identity[4];
  password.pop_back();
  EXPECT_THAT(second.output(), HasSubstr("password " + password + "\n"));
  EXPECT_THAT(second.output(), HasSubstr("http://127.0.0.1:" + std::to_string(port) + "/admin\n"));
  EXPECT_EQ(get_status("http://127.0.0.1:" + std::to_string(port) + "/healthz"), 200u);
  EXPECT_THAT(read_file(data() / "app.toml"),
              HasSubstr("redirect_url = \"http://127.0.0.1:" + std::to_string(port) + "/workplace/install\""));
  ASSERT_EQ(second.finish(SIGINT, std::chrono::seconds(10)), 0) << second.output();
  expect_no_secret(first.output() + second.output());
}

TEST_F(DemoCliTest, AnIntegrationThatDiesStopsTheDemoWithItsLog) {
  DemoProcess running(data(), free_port(), "/bin/false");
  const int status = running.wait(std::chrono::seconds(20));
  ASSERT_TRUE(WIFEXITED(status)) << status << running.output();
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(running.output(), HasSubstr("the helpdesk exited with status 1"));
  EXPECT_THAT(running.output(), HasSubstr((data() / "helpdesk.log").string()));
}

TEST_F(DemoCliTest, AFolderItCannotUseIsNamed) {
  const std::string file = dir_.write_file("not-a-folder", "x").string();
  const auto inside_file = demo("--data " + shell_quote(file + "/wik-demo"));
  EXPECT_EQ(inside_file.exit_status, 2);
  EXPECT_THAT(inside_file.err, HasSubstr("cannot create the data folder " + file + "/wik-demo"));

  const auto is_file = demo("--data " + shell_quote(file));
  EXPECT_EQ(is_file.exit_status, 2);
  EXPECT_THAT(is_file.err, HasSubstr(file + " is not a folder"));
  EXPECT_THAT(inside_file.out + is_file.out, Not(HasSubstr("wik demo is running")));
}

TEST_F(DemoCliTest, APortInUseIsNamedBeforeAnythingStarts) {
  const auto [listener, port] = bound_loopback_socket();
  ASSERT_GE(listener, 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  const auto taken = demo("--data " + shell_quote(data().string()), port);
  ::close(listener);
  EXPECT_EQ(taken.exit_status, 2);
  EXPECT_THAT(taken.err, HasSubstr("cannot use port " + std::to_string(port) + " on 127.0.0.1"));
  EXPECT_THAT(taken.out, Not(HasSubstr("starting the helpdesk")));
}

TEST_F(DemoCliTest, APartialOrDamagedFolderIsNamedAndLeftAlone) {
  std::filesystem::create_directory(data());
  const std::string quoted = shell_quote(data().string());
  dir_.write_file("wik-demo/keys.ring", "not a key ring\n");
  const auto partial = demo("--data " + quoted);
  EXPECT_EQ(partial.exit_status, 2);
  EXPECT_THAT(partial.err, HasSubstr((data() / "app-id").string() + " is missing"));

  dir_.write_file("wik-demo/app-id", "1234567890123456\n");
  dir_.write_file("wik-demo/app-secret", "0123456789abcdef0123456789abcdef\n");
  dir_.write_file("wik-demo/verify-token", "token\n");
  dir_.write_file("wik-demo/admin-password", "password\n");
  const auto bad_ring = demo("--data " + quoted);
  EXPECT_EQ(bad_ring.exit_status, 2);
  EXPECT_THAT(bad_ring.err, HasSubstr((data() / "keys.ring").string()));
  EXPECT_EQ(read_file(data() / "keys.ring"), "not a key ring\n");

  const auto good = run_command(shell_quote(WIK_CLI_PATH) + " keys generate --out " + shell_quote((data() / "ring").string()));
  ASSERT_EQ(good.exit_status, 0) << good.err;
  std::filesystem::rename(data() / "ring", data() / "keys.ring");
  dir_.write_file("wik-demo/app-id", "12ab\n");
  const auto bad_id = demo("--data " + quoted);
  EXPECT_EQ(bad_id.exit_status, 2);
  EXPECT_THAT(bad_id.err, HasSubstr((data() / "app-id").string() + ": not an app id"));
  EXPECT_THAT(partial.out + bad_ring.out + bad_id.out, Not(HasSubstr("wik demo is running")));
}

}  // namespace
}  // namespace wik
