#include "support/postgres_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "support/command.h"

namespace wik::testing {
namespace {

constexpr const char* kDefaultBindir = "/usr/lib/postgresql/15/bin";
constexpr const char* kOwner = "postgres";

// Returns a loopback TCP port nobody listens on right now.
Result<int> free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Error(ErrorCode::kUnavailable, "cannot create a socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!bound) return Error(ErrorCode::kUnavailable, "cannot find a free loopback port");
  return static_cast<int>(ntohs(address.sin_port));
}

std::string read_file(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) return {};
  std::string bytes(static_cast<std::size_t>(size), '\0');
  std::ifstream(path, std::ios::binary).read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

}  // namespace

Result<std::unique_ptr<PostgresCluster>> PostgresCluster::start(const PostgresClusterOptions& options) {
  std::unique_ptr<PostgresCluster> cluster(new PostgresCluster());
  const char* bindir = std::getenv("WIK_PG_BINDIR");
  cluster->bindir_ = bindir != nullptr ? bindir : kDefaultBindir;
  if (::geteuid() == 0) {
    const passwd* owner = ::getpwnam(kOwner);
    if (owner == nullptr) return Error(ErrorCode::kUnavailable, "running as root and there is no `postgres` user");
    if (::chown(cluster->dir_.path().c_str(), owner->pw_uid, owner->pw_gid) != 0) {
      return Error(ErrorCode::kUnavailable, "cannot hand the cluster directory to `postgres`");
    }
  }
  Result<int> port = free_loopback_port();
  if (!port) return port.error();
  cluster->port_ = *port;

  const std::string data = shell_quote(cluster->data_dir().string());
  Result<void> initialised = cluster->run_as_owner(
      "initdb", shell_quote(cluster->bindir_ + "/initdb") + " -D " + data +
                    " -U postgres -A trust -E UTF8 --locale=C --no-sync --no-instructions");
  if (!initialised) return initialised.error();

  const std::string settings = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(cluster->port_) +
                               " -c unix_socket_directories=" + cluster->dir_.path().string() +
                               " -c fsync=" + (options.fsync ? "on" : "off") +
                               " -c max_connections=100 -c shared_buffers=64MB";
  Result<void> started = cluster->run_as_owner(
      "pg_ctl start", shell_quote(cluster->bindir_ + "/pg_ctl") + " -D " + data + " -l " +
                          shell_quote((cluster->dir_.path() / "server.log").string()) + " -w -t 60 -o " +
                          shell_quote(settings) + " start");
  if (!started) {
    return Error(started.error().code(), started.error().reason(),
                 started.error().detail() + "\nserver log:\n" + read_file(cluster->dir_.path() / "server.log"));
  }
  cluster->started_ = true;
  return cluster;
}

Result<PostgresCluster*> PostgresCluster::shared() {
  static Result<std::unique_ptr<PostgresCluster>> cluster = start();
  if (!cluster) return cluster.error();
  return cluster->get();
}

PostgresCluster::~PostgresCluster() {
  if (started_) {
    (void)run_as_owner("pg_ctl stop", shell_quote(bindir_ + "/pg_ctl") + " -D " +
                                          shell_quote(data_dir().string()) + " -m immediate -w stop");
  }
}

Result<std::string> PostgresCluster::create_database() {
  const std::string name = "wik_test_" + std::to_string(++databases_);
  const CommandResult created = run_command(
      shell_quote(bindir_ + "/psql") + " -X -q -v ON_ERROR_STOP=1 " + shell_quote(conninfo("postgres")) +
      " -c " + shell_quote("CREATE DATABASE " + name + " TEMPLATE template0 STRATEGY FILE_COPY"));
  if (created.exit_status != 0) {
    return Error(ErrorCode::kUnavailable, "cannot create a test database", created.out + created.err);
  }
  return conninfo(name);
}

std::string PostgresCluster::conninfo(std::string_view name) const {
  return "host=" + dir_.path().string() + " port=" + std::to_string(port_) + " user=postgres dbname=" +
         std::string(name);
}

Result<void> PostgresCluster::run_as_owner(std::string_view step, const std::string& command) const {
  const std::string line = ::geteuid() == 0 ? "runuser -u " + std::string(kOwner) + " -- " + command : command;
  const CommandResult result = run_command(line);
  if (result.exit_status != 0) {
    return Error(ErrorCode::kUnavailable, "PostgreSQL test cluster: " + std::string(step) + " failed",
                 result.out + result.err);
  }
  return ok_result();
}

}  // namespace wik::testing
