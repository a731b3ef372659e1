#include "support/nginx_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <thread>

#include "support/command.h"

namespace wik::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kDefaultBinary = "/usr/sbin/nginx";
constexpr std::chrono::seconds kStopDeadline{10};

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Returns the address of `port` on 127.0.0.1.
sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool accepts_connections(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  const sockaddr_in address = loopback(port);
  const bool connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

// Splits one of nginx's upstream variables ("a, b : c"; "-" for none) into its values.
std::vector<std::string> upstream_values(const std::string& text) {
  std::vector<std::string> values;
  static const std::regex kSeparator(R"(\s*[,:]\s+)");
  for (auto it = std::sregex_token_iterator(text.begin(), text.end(), kSeparator, -1);
       it != std::sregex_token_iterator(); ++it) {
    if (!it->str().empty() && it->str() != "-") values.push_back(it->str());
  }
  return values;
}

std::string configuration(const std::filesystem::path& dir, std::uint16_t port, const NginxOptions& options) {
  std::ostringstream conf;
  const std::string at = dir.string();
  // Under root the workers would switch to `nobody`, who cannot enter the test's private directory.
  if (::geteuid() == 0) conf << "user root;\n";
  conf << "worker_processes " << options.worker_processes << ";\n"
       << "pid " << at << "/nginx.pid;\n"
       << "error_log " << at << "/error.log warn;\n"
       << "events { worker_connections 4096; }\n"
       << "http {\n"
       << "  log_format upstreams '$status \"$request_method $request_uri\" \"$upstream_addr\" "
          "\"$upstream_bytes_sent\"';\n"
       << "  access_log " << at << "/access.log upstreams;\n"
       << "  client_body_temp_path " << at << "/body;\n"
       << "  proxy_temp_path " << at << "/proxy;\n"
       << "  fastcgi_temp_path " << at << "/fastcgi;\n"
       << "  uwsgi_temp_path " << at << "/uwsgi;\n"
       << "  scgi_temp_path " << at << "/scgi;\n"
       << "  upstream replicas {\n";
  for (const std::uint16_t upstream : options.upstreams) conf << "    server 127.0.0.1:" << upstream << ";\n";
  conf << "  }\n"
       << "  server {\n"
       << "    listen 127.0.0.1:" << port << ";\n"
       << "    location / {\n"
       << "      proxy_pass http://replicas;\n"
       << "      proxy_set_header Host $http_host;\n"
       << "      add_header X-Upstream $upstream_addr always;\n"
       << "    }\n"
       << "  }\n"
       << "}\n";
  return conf.str();
}

}  // namespace

bool ProxiedRequest::resent() const {
  for (std::size_t i = 0; i + 1 < bytes_sent.size(); ++i) {
    if (bytes_sent[i] > 0) return true;
  }
  return false;
}

std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address = loopback(0);
  socklen_t length = sizeof address;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

Result<std::unique_ptr<NginxServer>> NginxServer::start(const NginxOptions& options) {
  std::unique_ptr<NginxServer> server(new NginxServer());
  server->port_ = options.port != 0 ? options.port : free_loopback_port();
  if (server->port_ == 0) return Error(ErrorCode::kUnavailable, "no free loopback port for nginx");
  const std::filesystem::path conf =
      server->dir_.write_file("nginx.conf", configuration(server->dir_.path(), server->port_, options));
  const std::string log = (server->dir_.path() / "nginx.out").string();
  const char* configured_binary = std::getenv("WIK_NGINX");
  std::string binary =
      configured_binary != nullptr && *configured_binary != '\0' ? configured_binary : kDefaultBinary;
  std::string prefix = server->dir_.path().string();
  std::string conf_path = conf.string();
  std::string error_log = (server->dir_.path() / "error.log").string();
  Result<pid_t> spawned = spawn_logged({binary, "-p", prefix, "-c", conf_path, "-e", error_log, "-g", "daemon off;"},
                                       std::nullopt, log);
  if (!spawned) return spawned.error();
  const pid_t pid = *spawned;
  server->pid_ = pid;

  const auto what_nginx_said = [&server, &log] { return read_all(log) + read_all(server->dir_.path() / "error.log"); };
  const Clock::time_point give_up_at = Clock::now() + options.start_timeout;
  while (!accepts_connections(server->port_)) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      server->pid_ = 0;
      return Error(ErrorCode::kUnavailable, "nginx exited at start", what_nginx_said());
    }
    if (Clock::now() >= give_up_at) {
      return Error(ErrorCode::kUnavailable, "nginx did not listen in time", what_nginx_said());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return server;
}

NginxServer::~NginxServer() { stop(); }

void NginxServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);  // fast shutdown: the master stops its workers, then exits
  const Clock::time_point give_up_at = Clock::now() + kStopDeadline;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) != pid_) {
    if (Clock::now() >= give_up_at) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = 0;
}

std::string NginxServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<ProxiedRequest> NginxServer::access_log() const {
  static const std::regex kLine(R"re(^(\d+) "(\S+) ([^"]*)" "([^"]*)" "([^"]*)"$)re");
  std::vector<ProxiedRequest> requests;
  std::istringstream lines(read_all(dir_.path() / "access.log"));
  for (std::string line; std::getline(lines, line);) {
    std::smatch fields;
    if (!std::regex_match(line, fields, kLine)) continue;
    ProxiedRequest request{.status = static_cast<unsigned>(std::stoul(fields[1].str())),
                           .method = fields[2].str(),
                           .target = fields[3].str(),
                           .upstreams = upstream_values(fields[4].str())};
    for (const std::string& bytes : upstream_values(fields[5].str())) request.bytes_sent.push_back(std::stoull(bytes));
    requests.push_back(std::move(request));
  }
  return requests;
}

}  // namespace wik::testing
