// wik demo: the product's demo in one command (docs/getting-started.md). It runs the Workplace
// emulator in this process and the helpdesk integration as a child process, both on 127.0.0.1,
// from a data folder the first run fills and later runs reuse: the key ring, the app secret, the
// webhook verify token, the app id and the vendor admin's password (made once, never replaced; a
// folder holding only some of them, or a damaged one, is an error naming the file), the admin's
// account in the helpdesk's SQLite file, and the emulator's state. The manifest (app.toml) and the
// integration's wik.toml hold no secret and are written again at every start, so they follow the
// ports given. Once the integration's /readyz answers, the app's webhooks are subscribed and the
// two URLs and the walk-through are printed.
//
// SIGINT, SIGTERM or SIGHUP stops the integration (SIGTERM, then SIGKILL after kStopGrace) and the
// emulator, and the demo exits 0. If the integration exits on its own, the demo stops the emulator,
// shows the end of the integration's log and exits 1; a setup problem exits 2. The integration
// runs in its own process group and gets SIGTERM when the demo dies (PR_SET_PDEATHSIG), so no
// path leaves it running. The app secret, the verify token and the key ring are never printed;
// the vendor admin's password is, as it guards nothing but this local demo.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "cli/app_graph.h"
#include "cli/commands.h"
#include "cli/inputs.h"
#include "cli/operator.h"
#include "cli/private_files.h"
#include "config/secret_file.h"
#include "core/hex.h"
#include "core/key_ring.h"
#include "core/secure_random.h"
#include "emulator/emulator.h"
#include "emulator/state/app_registry.h"
#include "graph/subscriptions.h"
#include "http/client/client.h"
#include "log/logging.h"
#include "log/redacting_sink.h"
#include "manifest/manifest.h"

namespace wik::cli {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kContext = "demo";
constexpr const char* kAdminEmail = "admin@helpdesk.example";
constexpr const char* kLoopback = "127.0.0.1";
// The integration's routes the demo names (wik::App serves them at these paths by default).
constexpr std::string_view kInstallPath = "/workplace/install";
constexpr std::string_view kDeauthorizePath = "/workplace/deauthorize";
constexpr std::string_view kWebhookPath = "/workplace/webhook";
// How long the integration has to answer /readyz, and to stop once sent SIGTERM.
constexpr seconds kReadyLimit{30};
constexpr seconds kStopGrace{5};

constexpr const char* kDescription = R"(Run the product's demo: the Workplace emulator and the helpdesk integration, on 127.0.0.1.

The first run creates the data folder (mode 0700) with the demo's key ring, app secret, webhook verify
token, app id and the helpdesk's vendor admin (admin@helpdesk.example, password in admin-password);
later runs reuse them. It subscribes the app's webhooks, prints the emulator's and the helpdesk's URLs
and what to do, and runs until Ctrl-C, which stops both. The helpdesk's log goes to helpdesk.log in
the data folder.)";

struct DemoOptions {
  std::filesystem::path data = "wik-demo";
  std::uint16_t port = 8080;
  std::uint16_t workplace_port = 8090;
  std::uint16_t graph_port = 8091;
  std::optional<std::filesystem::path> integration;
};

// Returns `data` as an absolute path without a trailing separator.
std::filesystem::path absolute_folder(const std::filesystem::path& data) {
  const std::filesystem::path folder = std::filesystem::absolute(data).lexically_normal();
  return folder.has_filename() ? folder : folder.parent_path();
}

// The data folder's files, by absolute path. The first five are the demo's identity.
struct DemoFiles {
  explicit DemoFiles(const std::filesystem::path& data)
      : folder(absolute_folder(data)),
        key_ring(folder / "keys.ring"),
        app_id(folder / "app-id"),
        app_secret(folder / "app-secret"),
        verify_token(folder / "verify-token"),
        admin_password(folder / "admin-password"),
        manifest(folder / "app.toml"),
        config(folder / "wik.toml"),
        database(folder / "helpdesk.db"),
        emulator_state(folder / "emulator.json"),
        integration_log(folder / "helpdesk.log") {}

  std::vector<std::filesystem::path> identity() const { return {key_ring, app_id, app_secret, verify_token, admin_password}; }

  std::filesystem::path folder, key_ring, app_id, app_secret, verify_token, admin_password;
  std::filesystem::path manifest, config, database, emulator_state, integration_log;
};

struct Identity {
  std::string app_id;
  Secret admin_password;
  bool created = false;  // by this run
};

Error config_error(std::string reason) { return Error(ErrorCode::kConfig, std::move(reason)); }

// Creates `folder` (and its parents) with mode 0700 unless it exists; kConfig unless it then is a
// folder this process may write in.
Result<void> make_folder(const std::filesystem::path& folder) {
  std::error_code ignored;
  std::filesystem::create_directories(folder.parent_path(), ignored);  // mkdir below names any failure
  if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST) {
    return config_error(fmt::format("cannot create the data folder {}: {}", folder.string(), std::strerror(errno)));
  }
  struct stat info {};
  if (::stat(folder.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return config_error(fmt::format("{} is not a folder: give --data a folder (it is created if missing)", folder.string()));
  }
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    return config_error(fmt::format("cannot write in the data folder {}: {}", folder.string(), std::strerror(errno)));
  }
  return ok_result();
}

// Returns a random app id of 16 digits, as the platform's look.
std::string random_app_id() {
  const core::Bytes random = core::secure_random_bytes(16);
  std::string id;
  for (std::size_t i = 0; i < random.size(); ++i) {
    const auto byte = static_cast<unsigned char>(random[i]);
    id.push_back(static_cast<char>(i == 0 ? '1' + byte % 9 : '0' + byte % 10));
  }
  return id;
}

bool is_app_id(std::string_view text) {
  return text.size() >= 15 && text.size() <= 16 && std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; });
}

// Returns the first line of the app id file. The app id is public (it is in every install URL), so
// it is read as text, not as a Secret, which the secret scan (docs/RELIABILITY.md, B5) would count.
Result<std::string> read_app_id(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return config_error(path.string() + ": cannot be read");
  return line;
}

Result<void> create_identity(const DemoFiles& files) {
  if (auto ring = create_key_ring_file(files.key_ring, default_key_id()); !ring) return ring;
  const std::pair<std::filesystem::path, Secret> made[] = {
      {files.app_id, Secret(random_app_id() + "\n")},
      {files.app_secret, Secret(core::to_hex(core::secure_random_bytes(16)) + "\n")},
      {files.verify_token, Secret(core::secure_random_token(24) + "\n")},
      {files.admin_password, Secret(core::secure_random_token(12) + "\n")},
  };
  for (const auto& [path, contents] : made) {
    if (auto written = write_private_file(path, contents, false); !written) return written;
  }
  return ok_result();
}

// Returns the identity in the data folder, creating it when the folder holds none of its files:
// kConfig naming the file when only some exist or one is damaged.
Result<Identity> load_identity(const DemoFiles& files) {
  const auto paths = files.identity();
  const auto present = std::ranges::count_if(paths, [](const auto& path) { return std::filesystem::exists(path); });
  const bool create = present == 0;
  if (create) {
    if (auto created = create_identity(files); !created) return created.error();
  } else if (present < static_cast<std::ptrdiff_t>(paths.size())) {
    const auto missing = std::ranges::find_if(paths, [](const auto& path) { return !std::filesystem::exists(path); });
    return config_error(fmt::format("{} is missing, but the data folder holds other files of an earlier demo: move {} "
                                    "away (or delete it) to start a new demo",
                                    missing->string(), files.folder.string()));
  }
  auto ring = config::read_secret_file(files.key_ring);
  if (!ring) return ring.error();
  if (auto parsed = core::KeyRing::parse(ring->expose()); !parsed) return parsed.error().with_context(files.key_ring.string());
  for (const auto& secret : {files.app_secret, files.verify_token}) {
    if (auto read = config::read_secret_file(secret); !read) return read.error();
  }
  auto app_id = read_app_id(files.app_id);
  if (!app_id) return app_id.error();
  if (!is_app_id(*app_id)) return config_error(files.app_id.string() + ": not an app id (15 or 16 digits)");
  auto password = config::read_secret_file(files.admin_password);
  if (!password) return password.error();
  return Identity{.app_id = std::move(*app_id), .admin_password = std::move(*password), .created = create};
}

// Returns `text` as a TOML basic string.
std::string toml_string(std::string_view text) {
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      quoted += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

std::string manifest_text(const std::string& app_id, const std::string& integration_url) {
  return fmt::format(R"(# The helpdesk's app manifest (docs/manifest.md), written by `wik demo` at every start: the emulator
# registers the app from it. The app secret is in app-secret, never here.
id = {}
name = "Helpdesk"
tagline = "IT tickets from Work Chat"
description = "Employees write to the Helpdesk bot in Work Chat to open, follow and close IT tickets, or mention it in a group post. Agents answer from the vendor's admin page."
publisher = "Helpdesk Example Ltd"
redirect_url = "{}{}"
deauthorize_url = "{}{}"
marketing_url = "https://helpdesk.example"
terms_url = "https://helpdesk.example/terms"
privacy_url = "https://helpdesk.example/privacy"
support = "support@helpdesk.example"
default_locale = "en_US"
permissions = ["message", "bot_mention"]

[webhooks]
page = ["messages", "messaging_postbacks", "mention"]
)",
                     toml_string(app_id), integration_url, kInstallPath, integration_url, kDeauthorizePath);
}

std::string config_text(const DemoFiles& files, const Identity& identity, const DemoOptions& options,
                        const emulator::Emulator& emulator) {
  return fmt::format(R"(# The helpdesk integration's configuration (docs/configuration.md), written by `wik demo` at every
# start. Secrets stay in their own files next to it.
[app]
id = {}
secret_file = {}
verify_token_file = {}
graph_url = {}
workplace_url = {}

[server]
address = "{}"
port = {}
public_url = "http://{}:{}"

[store]
engine = "sqlite"
sqlite_path = {}

[keys]
ring_file = {}
)",
                     toml_string(identity.app_id), toml_string(files.app_secret.string()),
                     toml_string(files.verify_token.string()), toml_string(emulator.graph_url()),
                     toml_string(emulator.web_url()), kLoopback, options.port, kLoopback, options.port,
                     toml_string(files.database.string()), toml_string(files.key_ring.string()));
}

// Returns the integration to run: --integration, else wik-helpdesk next to this program, else in
// the build tree's examples/helpdesk/ (this program being <build>/src/cli/wik).
Result<std::filesystem::path> find_integration(const std::optional<std::filesystem::path>& given) {
  if (given) {
    if (::access(given->c_str(), X_OK) != 0) {
      return config_error(fmt::format("cannot run the integration {}: {}", given->string(), std::strerror(errno)));
    }
    return std::filesystem::absolute(*given);
  }
  std::error_code error;
  const std::filesystem::path folder = std::filesystem::read_symlink("/proc/self/exe", error).parent_path();
  const std::filesystem::path beside = folder / "wik-helpdesk";
  const std::filesystem::path built = (folder / "../../examples/helpdesk/wik-helpdesk").lexically_normal();
  for (const auto& candidate : {beside, built}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return config_error(fmt::format("no helpdesk integration at {} or {}: build it (scripts/build.sh release wik "
                                  "wik_example_helpdesk) or give --integration PATH",
                                  beside.string(), built.string()));
}

// Returns kConfig when something already listens on 127.0.0.1:`port`.
Result<void> check_port_free(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return config_error(fmt::format("cannot open a socket: {}", std::strerror(errno)));
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, kLoopback, &address.sin_addr);
  const bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  const int why = errno;
  ::close(fd);
  if (bound) return ok_result();
  return config_error(fmt::format("cannot use port {} on {} for the helpdesk: {} (give another --port)", port, kLoopback,
                                  std::strerror(why)));
}

Result<std::unique_ptr<emulator::Emulator>> start_emulator(const DemoFiles& files, const DemoOptions& options) {
  auto secret = emulator::read_app_secret(files.app_secret);
  if (!secret) return secret.error();
  log::register_secret_value(Secret(*secret));
  auto app = emulator::load_app(files.manifest, std::move(*secret));
  if (!app) return app.error();
  emulator::EmulatorOptions emulator_options;
  emulator_options.address = kLoopback;
  emulator_options.graph_port = options.graph_port;
  emulator_options.web_port = options.workplace_port;
  emulator_options.state_file = files.emulator_state;
  emulator_options.apps = {std::move(*app)};
  return emulator::Emulator::start(std::move(emulator_options));
}

// Makes sure the helpdesk's store holds the vendor admin's account with the password of the data
// folder, creating the account when it is missing. The store is closed on return.
Result<void> ensure_admin_account(const Config& config, const DemoFiles& files, const Secret& password) {
  // SQLite gives the files it adds next to the database (journal, WAL) the database's mode.
  const int database = ::open(files.database.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (database < 0) return config_error(fmt::format("cannot create {}: {}", files.database.string(), std::strerror(errno)));
  ::close(database);
  auto store = open_configured_store(config, {});
  if (!store) return store.error().with_context(files.database.string());
  if ((*store)->authenticate(kAdminEmail, password)) return ok_result();
  auto created = (*store)->create_account(kAdminEmail, password, "admin");
  if (created) return ok_result();
  if (created.error().code() == ErrorCode::kConflict) {
    return config_error(fmt::format("{} holds the account {} with a password other than the one in {}",
                                    files.database.string(), kAdminEmail, files.admin_password.string()));
  }
  return created.error().with_context(files.database.string());
}

// Returns the environment this process has, with WIK_CONFIG set to `config_file`.
std::vector<std::string> integration_environment(const std::filesystem::path& config_file) {
  std::vector<std::string> environment;
  for (char** variable = environ; *variable != nullptr; ++variable) {
    if (!std::string_view(*variable).starts_with("WIK_CONFIG=")) environment.emplace_back(*variable);
  }
  environment.push_back("WIK_CONFIG=" + config_file.string());
  return environment;
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

// The integration's process. stop() ends it; destroying one that still runs kills and reaps it,
// so no early return leaves it behind. Not thread-safe; only the thread that spawned it may use it.
class IntegrationProcess {
 public:
  // Starts `program` in its own process group, with `environment`, standard input from /dev/null
  // and standard output and error appended to `log_file`. The child gets SIGTERM if this thread
  // ends first. kConfig when the log cannot be opened or the process cannot be created.
  static Result<std::unique_ptr<IntegrationProcess>> spawn(const std::filesystem::path& program,
                                                           std::vector<std::string> environment,
                                                           const std::filesystem::path& log_file) {
    const int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log < 0) return config_error(fmt::format("cannot open {}: {}", log_file.string(), std::strerror(errno)));
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0) {
      const int why = errno;
      ::close(log);
      return config_error(fmt::format("cannot open /dev/null: {}", std::strerror(why)));
    }
    std::vector<std::string> arguments = {program.string()};
    const std::vector<char*> argv = pointers_to(arguments);
    const std::vector<char*> envp = pointers_to(environment);
    sigset_t none;
    sigemptyset(&none);
    const pid_t parent = ::getpid();
    // fork, not posix_spawn: PR_SET_PDEATHSIG must be set in the child before it execs. Other threads
    // run in this process, so the child makes only async-signal-safe calls until execve.
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);  // the demo died before the request took effect
      ::setpgid(0, 0);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::dup2(null, STDIN_FILENO);
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    const int why = errno;
    ::close(log);
    ::close(null);
    if (pid < 0) return config_error(fmt::format("cannot start {}: {}", program.string(), std::strerror(why)));
    return std::unique_ptr<IntegrationProcess>(new IntegrationProcess(pid));
  }

  ~IntegrationProcess() {
    if (!status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  IntegrationProcess(const IntegrationProcess&) = delete;
  IntegrationProcess& operator=(const IntegrationProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }

  // Returns the wait status once the process has exited (reaping it), nullopt while it runs.
  std::optional<int> exited() {
    int status = 0;
    if (!status_ && ::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
    return status_;
  }

  // Sends SIGTERM, waits up to `grace` for the process to exit, then kills it.
  void stop(milliseconds grace) {
    if (exited()) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (!exited() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(20));
    if (exited()) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    status_ = status;
  }

 private:
  explicit IntegrationProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  std::optional<int> status_;
};

// Returns "exited with status N" or "was killed by signal N" for a wait status.
std::string describe_exit(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  return fmt::format("was killed by signal {}", WTERMSIG(status));
}

// Returns the last lines of `file`, at most `limit` bytes of them.
std::string tail_of(const std::filesystem::path& file, std::streamoff limit) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : 0;
  const std::streamoff from = std::max<std::streamoff>(0, size - limit);
  in.seekg(from);
  std::string text(static_cast<std::size_t>(size - from), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (from > 0) text.erase(0, text.find('\n') + 1);
  return text;
}

// The signals that stop the demo (SIGINT, SIGTERM, SIGHUP) and SIGCHLD, blocked in this thread
// and in every thread it starts afterwards, so they wait for wait_for(). They stay blocked until
// the process exits: unblocking would let a second Ctrl-C kill the demo half-way through stopping.
sigset_t block_demo_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&signals, signal);
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

enum class Interruption { kNone, kStopSignal, kIntegrationExited };

// Waits up to `timeout` for a stop signal or for the integration to exit, and says which came.
Interruption wait_for(const sigset_t& signals, IntegrationProcess& integration, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (integration.exited()) return Interruption::kIntegrationExited;
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Interruption::kNone;
    const timespec wait{.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000),
                        .tv_nsec = static_cast<long>(left.count() % 1'000'000'000)};
    const int signal = ::sigtimedwait(&signals, nullptr, &wait);
    if (signal == SIGINT || signal == SIGTERM || signal == SIGHUP) return Interruption::kStopSignal;
    // SIGCHLD, the timeout or EINTR: look at the integration again.
  }
}

asio::awaitable<bool> answers_ready(http::Client* client, std::string url) {
  http::ClientRequest request{.url = std::move(url)};
  const auto response = co_await client->request(std::move(request));
  co_return response && response->status == 200;
}

// Waits until the integration's /readyz at `url` answers 200; kTimeout after kReadyLimit.
Result<Interruption> wait_until_ready(const sigset_t& signals, IntegrationProcess& integration, const std::string& url) {
  asio::io_context io;  // declared first: destroyed after the client
  auto client = http::Client::create({.connect_timeout = seconds(1),
                                      .read_timeout = seconds(2),
                                      .total_timeout = seconds(3),
                                      .max_idle_connections_per_host = 0,
                                      .allow_plain_http = true});
  if (!client) return client.error();
  const auto deadline = std::chrono::steady_clock::now() + kReadyLimit;
  for (;;) {
    auto ready = asio::co_spawn(io, answers_ready(client->get(), url), asio::use_future);
    io.restart();
    io.run();
    if (ready.get()) return Interruption::kNone;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error(ErrorCode::kTimeout, fmt::format("the helpdesk did not answer {} with 200 within {} s", url,
                                                    kReadyLimit.count()));
    }
    if (auto interrupted = wait_for(signals, integration, milliseconds(200)); interrupted != Interruption::kNone) {
      return interrupted;
    }
  }
}

// Makes the app's webhook subscriptions those of the manifest, with the integration's callback.
// The platform verifies the callback, so the integration must be serving.
Result<void> subscribe_webhooks(const Config& config, const DemoFiles& files) {
  auto manifest = manifest::load_manifest(files.manifest);
  if (!manifest) return manifest.error();
  std::vector<graph::WantedSubscription> wanted;
  for (const auto& [object, fields] : manifest->webhooks) wanted.push_back({.object = object, .fields = fields});
  auto app_graph = connect_app_graph(config);
  if (!app_graph) return app_graph.error();
  auto synced = run_to_end(**app_graph, graph::sync_subscriptions(*(*app_graph)->graph,
                                                                  config.server.public_url + std::string(kWebhookPath),
                                                                  config.app.verify_token, std::move(wanted), true));
  if (!synced) return synced.error().with_context("subscribing the webhooks");
  return ok_result();
}

// The person to sign in to the emulator as: its platform's first active system administrator (the
// seeded Ada Admin of Acme Corp, docs/emulator.md).
struct Administrator {
  std::string name = "a system administrator";
  std::string community = "the community";
  std::string sign_in = "the emulator's state holds no active system administrator: nobody can install";
};

Administrator system_administrator(const emulator::PlatformState& state) {
  for (const emulator::Community& community : state.communities()) {
    for (const emulator::User& user : state.users(community.id)) {
      if (!user.system_admin || !user.active) continue;
      return {.name = user.name,
              .community = community.name,
              .sign_in = fmt::format("{} ({}), the system administrator of {}", user.name, user.email, community.name)};
    }
  }
  return {};
}

void print_walk_through(const DemoFiles& files, const Identity& identity, const std::string& integration_url,
                        emulator::Emulator& emulator) {
  const Administrator administrator = system_administrator(emulator.state());
  const std::string workplace = emulator.web_url();
  fmt::print(R"(
wik demo is running.

  Workplace (the emulator)   {workplace}
  Helpdesk admin page        {integration}/admin

  Workplace sign-in          {administrator};
                             no password: choose the name on the emulator's sign-in page
  Helpdesk sign-in           {account}, password {password}
                             (kept in {password_file})

What to do:
  1. Open the helpdesk admin page and sign in as {account}.
  2. Press "Add to Workplace". The emulator's install dialog opens: sign in there as {name}
     and press Install. You come back to the helpdesk, installed in {community}.
  3. Open Work Chat at {workplace}/chat, choose "Message Helpdesk" and write to the bot,
     e.g. "My laptop will not start": it opens a ticket and asks for its category.
  4. Find the ticket under Tickets on the helpdesk admin page and answer it: the bot delivers
     the answer in Work Chat.
  5. Uninstall Helpdesk from the emulator's Integrations tab ({workplace}/work/admin?section=apps):
     the helpdesk purges the community's tickets, and its admin page shows them gone.

The helpdesk's log: {log}
Data folder: {folder} (remove it to start again from nothing)
Press Ctrl-C to stop.
)",
             fmt::arg("workplace", workplace), fmt::arg("integration", integration_url),
             fmt::arg("administrator", administrator.sign_in), fmt::arg("name", administrator.name),
             fmt::arg("community", administrator.community), fmt::arg("account", kAdminEmail),
             fmt::arg("password", identity.admin_password.expose()),
             fmt::arg("password_file", files.admin_password.string()), fmt::arg("log", files.integration_log.string()),
             fmt::arg("folder", files.folder.string()));
  std::fflush(stdout);
}

// Stops the integration, reports `error` with the end of the integration's log, and returns 1.
int report_failure(IntegrationProcess& integration, const DemoFiles& files, const Error& error) {
  integration.stop(kStopGrace);
  const std::string tail = tail_of(files.integration_log, 2048);
  std::fprintf(stderr, "wik: demo: %s; the end of the helpdesk's log (%s)%s\n%s", error.reason().c_str(),
               files.integration_log.c_str(), tail.empty() ? " is empty" : ":", tail.c_str());
  return 1;
}

// Runs the demo once the emulator is up and the store is ready: the integration, its webhooks, the
// walk-through, then waiting for the end.
int run_integration(const sigset_t& signals, const DemoFiles& files, const Identity& identity, const Config& config,
                    const std::filesystem::path& program, emulator::Emulator& emulator) {
  auto spawned = IntegrationProcess::spawn(program, integration_environment(files.config), files.integration_log);
  if (!spawned) return report(spawned.error(), kContext, 2);
  IntegrationProcess& integration = **spawned;
  const std::string integration_url = config.server.public_url;
  std::printf("wik demo: starting the helpdesk (%s, process %d)\n", program.c_str(), static_cast<int>(integration.pid()));
  std::fflush(stdout);

  auto ready = wait_until_ready(signals, integration, integration_url + "/readyz");
  if (!ready) return report_failure(integration, files, ready.error());
  Interruption interruption = *ready;
  if (interruption == Interruption::kNone) {
    if (auto subscribed = subscribe_webhooks(config, files); !subscribed) {
      return report_failure(integration, files, subscribed.error());
    }
    print_walk_through(files, identity, integration_url, emulator);
    while ((interruption = wait_for(signals, integration, seconds(3600))) == Interruption::kNone) {
    }
  }
  if (interruption == Interruption::kIntegrationExited) {
    return report_failure(integration, files,
                          Error(ErrorCode::kUnavailable, "the helpdesk " + describe_exit(*integration.exited())));
  }
  std::printf("wik demo: stopping\n");
  std::fflush(stdout);
  integration.stop(kStopGrace);
  return 0;
}

int run_demo(const DemoOptions& options) {
  log::init_logging(LogOptions{.level = LogLevel::kWarn});
  // Before any thread starts, so that every thread inherits the mask.
  const sigset_t signals = block_demo_signals();
  const DemoFiles files(options.data);
  if (auto made = make_folder(files.folder); !made) return report(made.error(), kContext, 2);
  auto identity = load_identity(files);
  if (!identity) return report(identity.error(), kContext, 2);
  std::printf("wik demo: %s %s\n", identity->created ? "created" : "using", files.folder.c_str());
  auto program = find_integration(options.integration);
  if (!program) return report(program.error(), kContext, 2);
  if (auto free = check_port_free(options.port); !free) return report(free.error(), kContext, 2);

  const std::string integration_url = fmt::format("http://{}:{}", kLoopback, options.port);
  if (auto written = write_private_file(files.manifest, Secret(manifest_text(identity->app_id, integration_url)), true);
      !written) {
    return report(written.error(), kContext, 2);
  }
  auto emulator = start_emulator(files, options);
  if (!emulator) return report(emulator.error().with_context("emulator"), kContext, 2);
  std::printf("wik demo: the emulator serves Workplace at %s and its Graph API at %s\n", (*emulator)->web_url().c_str(),
              (*emulator)->graph_url().c_str());
  std::fflush(stdout);

  if (auto written = write_private_file(files.config, Secret(config_text(files, *identity, options, **emulator)), true);
      !written) {
    return report(written.error(), kContext, 2);
  }
  auto config = load_config(files.config);
  if (!config) return report(config.error(), kContext, 2);
  log::register_config_secrets(*config);
  if (auto account = ensure_admin_account(*config, files, identity->admin_password); !account) {
    return report(account.error(), kContext, 2);
  }
  const int status = run_integration(signals, files, *identity, *config, *program, **emulator);
  (*emulator)->stop();
  if (status == 0) std::printf("wik demo: stopped\n");
  return status;
}

}  // namespace

void add_demo_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DemoOptions>();
  CLI::App* command = app.add_subcommand("demo", kDescription);
  command->add_option("--data", options->data, "The demo's data folder (default ./wik-demo; created on first run)");
  command->add_option("--port", options->port, "Port of the helpdesk integration (default 8080; the app's URLs carry it)")
      ->check(CLI::Range(1, 65535));
  command->add_option("--workplace-port", options->workplace_port,
                      "Port of the emulator's Workplace web host (default 8090; 0: any free port)");
  command->add_option("--graph-port", options->graph_port, "Port of the emulator's Graph host (default 8091; 0: any free port)");
  command->add_option("--integration", options->integration,
                      "The integration program to run (default: wik-helpdesk next to wik, else in the build tree)");
  command->callback([options, &exit_code] { exit_code = run_demo(*options); });
}

}  // namespace wik::cli
