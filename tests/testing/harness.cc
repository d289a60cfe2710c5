#include "tests/testing/harness.h"

#include <arpa/inet.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/generic_call.h"

namespace funnel::testing {
namespace {

std::string RequireEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) {
    std::fprintf(stderr,
                 "%s is not set: run the tests through `./dev test`, which starts the test "
                 "MariaDB and sets FUNNEL_TEST_DB_*.\n",
                 name);
    std::abort();
  }
  return value;
}

void Exec(common::ConnectionPool& pool, const std::string& sql) {
  absl::Status status = pool.WithConnection("test admin", [&](sql::Connection& conn) {
    std::unique_ptr<sql::Statement> st(conn.createStatement());
    st->execute(sql);
    return absl::OkStatus();
  });
  if (!status.ok()) {
    std::fprintf(stderr, "test admin SQL failed: %s: %s\n", sql.c_str(), status.ToString().c_str());
    std::abort();
  }
}

}  // namespace

common::DbOptions TestServerOptions() {
  common::ConnectionPool::InitDriver();
  common::DbOptions options;
  options.host = "127.0.0.1";
  options.port = std::stoi(RequireEnv("FUNNEL_TEST_DB_PORT"));
  options.user = RequireEnv("FUNNEL_TEST_DB_USER");
  options.password = RequireEnv("FUNNEL_TEST_DB_PASSWORD");
  return options;
}

std::vector<common::DbOptions> TestClusterNodes() {
  const char* ports = std::getenv("FUNNEL_TEST_CLUSTER_PORTS");
  const char* password = std::getenv("FUNNEL_TEST_CLUSTER_PASSWORD");
  std::vector<common::DbOptions> nodes;
  if (ports == nullptr || password == nullptr || *ports == '\0') return nodes;
  common::ConnectionPool::InitDriver();
  for (absl::string_view port : absl::StrSplit(ports, ',', absl::SkipEmpty())) {
    common::DbOptions node;
    node.host = "127.0.0.1";
    node.port = std::stoi(std::string(port));
    node.user = "funnel_admin";
    node.password = password;
    nodes.push_back(node);
  }
  return nodes;
}

std::vector<pid_t> TestClusterNodePids() {
  std::vector<pid_t> pids;
  const char* dir = std::getenv("FUNNEL_TEST_CLUSTER_DIR");
  if (dir == nullptr || *dir == '\0') return pids;
  for (size_t n = 0; n < TestClusterNodes().size(); ++n) {
    std::ifstream file(absl::StrCat(dir, "/node", n, "/mysqld.pid"));
    pid_t pid = -1;
    if (!(file >> pid)) pid = -1;
    pids.push_back(pid);
  }
  return pids;
}

namespace {

void ClusterCommand(const std::string& verb, int n) {
  const char* dir = std::getenv("FUNNEL_TEST_CLUSTER_DIR");
  if (dir == nullptr || *dir == '\0') {
    std::fprintf(stderr, "FUNNEL_TEST_CLUSTER_DIR is not set (./dev test sets it)\n");
    std::abort();
  }
  const CommandResult r =
      RunCommand(absl::StrCat(SourceDir(), "/dev cluster ", verb, " ", dir, " ", n, " 2>&1"));
  if (r.exit_code != 0) {
    std::fprintf(stderr, "./dev cluster %s %d failed: %s\n", verb.c_str(), n, r.output.c_str());
    std::abort();
  }
}

}  // namespace

void KillClusterNode(int n) { ClusterCommand("kill", n); }

void SyncClusterNodes(const std::vector<common::DbOptions>& nodes) {
  for (const common::DbOptions& node : nodes) {
    common::ConnectionPool pool(node);
    QueryInt(pool, "SELECT 1");
  }
}
void RejoinClusterNode(int n) { ClusterCommand("rejoin", n); }

TestDatabase::TestDatabase(const std::string& label, common::DbOptions server) {
  static std::atomic<int> counter{0};
  common::ConnectionPool::InitDriver();
  options_ = server;
  options_.database = absl::StrCat("t_", label, "_", getpid(), "_", counter++);
  {
    common::DbOptions no_db = server;
    no_db.database = "";
    common::ConnectionPool root(no_db);
    Exec(root, absl::StrCat("CREATE DATABASE ", options_.database));
  }
  // Bulk statements (the bench's seeding) run far longer than a service's socket
  // timeout allows a call; a loaded machine took a 250,000-row chunk past it.
  common::DbOptions admin = options_;
  admin.io_timeout = absl::Minutes(10);
  admin_ = std::make_unique<common::ConnectionPool>(admin);
}

TestDatabase::~TestDatabase() {
  admin_.reset();
  common::DbOptions no_db = options_;
  no_db.database = "";
  common::ConnectionPool root(no_db);
  // Best effort: the server may be gone in tests that stop it.
  (void)root.WithConnection("drop test database", [&](sql::Connection& conn) {
    std::unique_ptr<sql::Statement> st(conn.createStatement());
    st->execute(absl::StrCat("DROP DATABASE IF EXISTS ", options_.database));
    st->execute(absl::StrCat("DROP USER IF EXISTS '", options_.database, "'@'127.0.0.1'"));
    return absl::OkStatus();
  });
}

common::DbOptions TestDatabase::CreateOwnUser() {
  common::DbOptions own = options_;
  own.user = options_.database;  // short enough: MariaDB allows 80 characters
  own.password = absl::StrCat("pw", getpid(), options_.database.size());
  Exec(*admin_,
       absl::StrCat("CREATE USER '", own.user, "'@'127.0.0.1' IDENTIFIED BY '", own.password, "'"));
  Exec(*admin_, absl::StrCat("GRANT ALL PRIVILEGES ON ", options_.database, ".* TO '", own.user,
                             "'@'127.0.0.1'"));
  return own;
}

void TestDatabase::Execute(const std::string& sql) { Exec(*admin_, sql); }

int64_t TestDatabase::QueryInt(const std::string& sql) { return testing::QueryInt(*admin_, sql); }

int64_t QueryInt(common::ConnectionPool& pool, const std::string& sql) {
  int64_t value = 0;
  absl::Status status = pool.WithConnection("test query", [&](sql::Connection& conn) {
    std::unique_ptr<sql::Statement> st(conn.createStatement());
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery(sql));
    if (rs->next()) value = rs->getInt64(1);
    return absl::OkStatus();
  });
  if (!status.ok()) {
    std::fprintf(stderr, "test query failed: %s: %s\n", sql.c_str(), status.ToString().c_str());
    std::abort();
  }
  return value;
}

std::vector<std::string> TestDatabase::QueryStrings(const std::string& sql) {
  std::vector<std::string> values;
  absl::Status status = admin_->WithConnection("test query", [&](sql::Connection& conn) {
    std::unique_ptr<sql::Statement> st(conn.createStatement());
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery(sql));
    while (rs->next()) values.push_back(rs->getString(1));
    return absl::OkStatus();
  });
  if (!status.ok()) {
    std::fprintf(stderr, "test query failed: %s: %s\n", sql.c_str(), status.ToString().c_str());
    std::abort();
  }
  return values;
}

PrivateMariaDb::PrivateMariaDb() : port_(FreePort()) {
  char tmpl[] = "/tmp/funnel-mariadb-XXXXXX";
  dir_ = mkdtemp(tmpl);
  Start();
  CommandResult provision =
      RunCommand(absl::StrCat(SourceDir(), "/dev db provision ", dir_, " funnel"));
  if (provision.exit_code != 0) {
    std::fprintf(stderr, "provisioning private MariaDB failed: %s\n", provision.output.c_str());
    std::abort();
  }
  std::ifstream secrets(dir_ + "/secrets.env");
  std::string line;
  while (std::getline(secrets, line)) {
    absl::string_view v(line);
    if (absl::ConsumePrefix(&v, "ADMIN_DB_PASSWORD=")) admin_password_ = std::string(v);
  }
}

PrivateMariaDb::~PrivateMariaDb() {
  Stop();
  std::filesystem::remove_all(dir_);
}

void PrivateMariaDb::Start() {
  CommandResult r = RunCommand(absl::StrCat(SourceDir(), "/dev db start ", dir_, " ", port_));
  if (r.exit_code != 0) {
    std::fprintf(stderr, "starting private MariaDB failed: %s\n", r.output.c_str());
    std::abort();
  }
}

void PrivateMariaDb::Signal(int sig) {
  std::ifstream in(dir_ + "/mysqld.pid");
  pid_t pid = 0;
  if (in >> pid && pid > 0) kill(pid, sig);
}

void PrivateMariaDb::Stop() { RunCommand(absl::StrCat(SourceDir(), "/dev db stop ", dir_)); }

common::DbOptions PrivateMariaDb::admin_options() const {
  common::ConnectionPool::InitDriver();
  common::DbOptions options;
  options.port = port_;
  options.user = "funnel_admin";
  options.password = admin_password_;
  return options;
}

ChildProcess::ChildProcess(std::string name, std::vector<std::string> argv,
                           std::map<std::string, std::string> env)
    : name_(std::move(name)) {
  char tmpl[] = "/tmp/funnel-child-XXXXXX";
  log_path_ = absl::StrCat(mkdtemp(tmpl), "/", name_, ".log");
  pid_ = fork();
  if (pid_ == 0) {
    // Child: its own process group, output to the log, signals unblocked, and
    // killed if the test process dies first (an aborted test leaves no servers).
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (Running()) {
    Signal(SIGKILL);
    Wait(absl::Seconds(10));
  }
  // A failed test shows what its processes said last (the log goes with them): a
  // service that never became healthy says why here, and nowhere else.
  if (::testing::Test::HasFailure()) {
    const std::string log = Log();
    constexpr size_t kTail = 4000;
    std::fprintf(stderr, "--- last of %s's log (exit %d) ---\n%s\n--- end of %s's log ---\n",
                 name_.c_str(), exit_code_,
                 log.substr(log.size() > kTail ? log.size() - kTail : 0).c_str(), name_.c_str());
  }
  std::filesystem::remove_all(std::filesystem::path(log_path_).parent_path());
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

bool ChildProcess::Running() {
  if (pid_ <= 0 || exit_code_ >= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

int ChildProcess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (Running()) {
    if (absl::Now() > deadline) return -1;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return exit_code_;
}

std::string ChildProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/funnel-test-XXXXXX";
  path_ = mkdtemp(tmpl);
}

TempDir::~TempDir() { std::filesystem::remove_all(path_); }

absl::StatusOr<int> WaitForPortFile(const std::string& path, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::ifstream in(path);
    std::string text;
    int port = 0;
    if (std::getline(in, text) && absl::SimpleAtoi(text, &port) && port > 0) return port;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("no port in ", path));
}

// Reserves `port` for this process against every other test process: an flock on
// a file named after it, which the kernel drops when this process ends, however it
// ends. False when another process holds it. A port freed for a moment (a test
// that kills a service and restarts it on the same port) stays this process's.
bool ReserveAcrossProcesses(int port) {
  static const std::string dir = "/tmp/funnel-test-ports";
  mkdir(dir.c_str(), 0777);
  const std::string path = absl::StrCat(dir, "/", port);
  const int fd = open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0666);
  if (fd < 0) return true;  // no reservation to be had: the bind check alone decides
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return false;
  }
  return true;  // the descriptor stays open: the reservation lasts as long as this process
}

int FreePort() {
  // Not bind(0): that hands out a port of the kernel's ephemeral range
  // (32768-60999), which any outgoing connection (a database client, another
  // test's channel) may take as its source port before the child binds it, and
  // which the next bind(0) of another test process may be given again. A random
  // port below that range, never the same twice in this process and reserved
  // against the other test processes running at the same time.
  static absl::Mutex mu(absl::kConstInit);
  static std::set<int>* given = new std::set<int>();
  static std::mt19937 random(static_cast<unsigned>(getpid()) ^
                             static_cast<unsigned>(absl::ToUnixNanos(absl::Now())));
  absl::MutexLock lock(&mu);
  std::uniform_int_distribution<int> pick(kFirstTestPort, kLastTestPort);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = pick(random);
    if (given->count(port)) continue;
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    given->insert(port);  // free or not, never tried again by this process
    if (!free || !ReserveAcrossProcesses(port)) continue;
    return port;
  }
  std::fprintf(stderr, "FreePort: no free port in %d-%d\n", kFirstTestPort, kLastTestPort);
  std::abort();
}

absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("nothing listens on port ", port));
  }
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("cannot send the request");
  }
  std::string response;
  std::array<char, 8192> buf;
  ssize_t n;
  while ((n = read(fd, buf.data(), buf.size())) > 0) response.append(buf.data(), n);
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (!absl::StartsWith(response, "HTTP/1.") || response.find(" 200 ") > response.find("\r\n") ||
      body == std::string::npos) {
    return absl::UnavailableError(absl::StrCat("GET ", path, ": ", response.substr(0, 80)));
  }
  return response.substr(body + 4);
}

double SampleSum(const std::string& exposition, const std::string& name,
                 const std::map<std::string, std::string>& labels) {
  double sum = 0;
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t end_of_name = line.find_first_of("{ ");
    if (line.compare(0, end_of_name, name) != 0 || end_of_name != name.size()) continue;
    const size_t value_at = line.rfind(' ');
    const std::string label_text = line.substr(end_of_name, value_at - end_of_name);
    bool all = true;
    for (const auto& [key, value] : labels) {
      const std::string pair = absl::StrCat(key, "=\"", value, "\"");
      all = all && (absl::StrContains(label_text, absl::StrCat("{", pair)) ||
                    absl::StrContains(label_text, absl::StrCat(",", pair)));
    }
    double value = 0;
    if (all && absl::SimpleAtod(line.substr(value_at + 1), &value)) sum += value;
  }
  return sum;
}

CommandResult RunCommand(const std::string& command) {
  CommandResult result{-1, ""};
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

CommandResult BufCurl(const std::string& args, const std::string& key) {
  return RunCommand(
      absl::StrCat(FUNNEL_BUF_PATH, " curl --protocol grpc --http2-prior-knowledge ",
                   key.empty() ? "" : absl::StrCat("-H 'authorization: Bearer ", key, "' "), args));
}

grpc::Status CallRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& request, std::string* reply,
                     const std::vector<std::pair<std::string, std::string>>& metadata) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
  return common::BlockingRawCall(stub, &ctx, method, request, reply);
}

std::string BinaryPath(const std::string& target) {
  if (target == "gateway") return FUNNEL_GATEWAY_BIN;
  if (target == "marketing_service") return FUNNEL_MARKETING_BIN;
  if (target == "sales_service") return FUNNEL_SALES_BIN;
  std::fprintf(stderr, "unknown binary %s\n", target.c_str());
  std::abort();
}

std::string SourceDir() { return FUNNEL_SOURCE_DIR_PATH; }

}  // namespace funnel::testing
