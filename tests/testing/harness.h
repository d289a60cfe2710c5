#pragma once

// Real dependencies for tests: databases on the MariaDB that `./dev test` starts,
// private MariaDB servers a test can stop and restart, the real service binaries
// as child processes, and `buf curl` (what grpcurl users see).

#include <grpcpp/channel.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mysql/pool.h"

namespace funnel::testing {

// Connection settings of the test MariaDB from the environment `./dev test` sets
// (FUNNEL_TEST_DB_PORT, FUNNEL_TEST_DB_USER, FUNNEL_TEST_DB_PASSWORD). Aborts the
// test binary with a clear message when they are missing.
common::DbOptions TestServerOptions();

// Admin options for each node of the Galera cluster `./dev test` starts
// (FUNNEL_TEST_CLUSTER_PORTS, comma-separated, and FUNNEL_TEST_CLUSTER_PASSWORD for
// the funnel_admin user); empty when there is none.
std::vector<common::DbOptions> TestClusterNodes();
// The server process of each node of that cluster (from FUNNEL_TEST_CLUSTER_DIR's
// pid files), -1 for a node whose pid cannot be read; empty when there is no cluster.
std::vector<pid_t> TestClusterNodePids();

// SIGKILLs node `n` of that cluster, as a crash would, and waits until it is gone;
// RejoinClusterNode starts it again and waits until it has caught up and is ready.
// Both abort the test binary when the cluster's folder (FUNNEL_TEST_CLUSTER_DIR) is unknown.
void KillClusterNode(int n);
void RejoinClusterNode(int n);

// Waits until every one of `nodes` has applied what was committed on any of them so
// far (a test's database and users, made on node 0): DDL returns once the node
// that ran it has, the others apply it a moment later, and a causal read
// (wsrep_sync_wait, which ./dev cluster nodes run with) waits for it.
void SyncClusterNodes(const std::vector<common::DbOptions>& nodes);

// A fresh, uniquely named database on a server, dropped when destroyed.
class TestDatabase final {
 public:
  // `server` holds host, port and an admin user; `label` goes into the name.
  explicit TestDatabase(const std::string& label, common::DbOptions server = TestServerOptions());
  ~TestDatabase();

  // Admin options pointing at this database.
  const common::DbOptions& options() const { return options_; }
  const std::string& name() const { return options_.database; }
  // Creates a user that can reach only this database; returns its options.
  common::DbOptions CreateOwnUser();
  // Runs one statement as admin on this database.
  void Execute(const std::string& sql);
  int64_t QueryInt(const std::string& sql);
  // The first column of every row, as strings.
  std::vector<std::string> QueryStrings(const std::string& sql);

 private:
  common::DbOptions options_;
  std::unique_ptr<common::ConnectionPool> admin_;
};

// The first column of the first row of `sql` on `pool` (0 when no row); aborts the
// test binary when the query fails.
int64_t QueryInt(common::ConnectionPool& pool, const std::string& sql);

// A MariaDB server of the test's own (via `./dev db`), for tests that stop it.
class PrivateMariaDb final {
 public:
  PrivateMariaDb();  // Starts it on a free port.
  ~PrivateMariaDb();
  void Stop();
  void Start();  // Again, same port and data.
  // Sends the server process a signal: SIGSTOP freezes it (a hung database that
  // keeps its connections open), SIGCONT thaws it.
  void Signal(int sig);
  // Admin options (database empty).
  common::DbOptions admin_options() const;

 private:
  std::string dir_;
  int port_;
  std::string admin_password_;
};

// A child process whose stdout and stderr go to a log file.
class ChildProcess final {
 public:
  ChildProcess(std::string name, std::vector<std::string> argv,
               std::map<std::string, std::string> env = {});
  ~ChildProcess();  // SIGKILL if still running.
  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits for exit; returns the exit code, 128+signal if killed, or -1 on timeout.
  int Wait(absl::Duration timeout);
  bool Running();
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;

 private:
  std::string name_;
  std::string log_path_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// A fresh temporary directory, removed with its contents when destroyed.
class TempDir final {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Reads a port written by --port_file, waiting up to `timeout`.
absl::StatusOr<int> WaitForPortFile(const std::string& path, absl::Duration timeout);

// A TCP port nobody listens on right now, from kFirstTestPort-kLastTestPort: below
// the kernel's ephemeral range, and apart from the ports ./dev picks for its
// servers (20000-23999).
inline constexpr int kFirstTestPort = 24000;
inline constexpr int kLastTestPort = 32000;
int FreePort();

// The body of GET http://127.0.0.1:port/path (HTTP/1.0); an error when it cannot be
// fetched or the status is not 200.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path);

// The sum of a Prometheus text exposition's samples of `name` whose labels include
// every pair of `labels` (0 when none match).
double SampleSum(const std::string& exposition, const std::string& name,
                 const std::map<std::string, std::string>& labels = {});

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr
};
// Runs a command through /bin/sh and captures its output.
CommandResult RunCommand(const std::string& command);

// Runs `buf curl --protocol grpc --http2-prior-knowledge ARGS` and captures it;
// with a `key`, as "authorization: Bearer <key>".
CommandResult BufCurl(const std::string& args, const std::string& key = "");

// Calls `method` ("/pkg.Service/Method") with raw request bytes, as a client of
// any version would, adding `metadata`; the reply's bytes go to `reply` if given.
grpc::Status CallRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& request = "", std::string* reply = nullptr,
                     const std::vector<std::pair<std::string, std::string>>& metadata = {});

// Paths baked in by CMake.
std::string BinaryPath(const std::string& target);  // "gateway", "marketing_service", ...
std::string SourceDir();

}  // namespace funnel::testing
