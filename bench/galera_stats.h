#pragma once

// Where a Galera cluster's time goes during a measured window, from the wsrep status
// counters of every node: how many write sets were replicated and how large,
// how many transactions certification refused or brute-force aborted, and how long
// flow control held writers back because some node fell behind applying.

#include <map>
#include <string>
#include <vector>

#include "common/mysql/pool.h"

namespace funnel::bench {

// One node's numeric wsrep_* status variables, by name.
using WsrepStatus = std::map<std::string, double>;

// SHOW GLOBAL STATUS LIKE 'wsrep%' on each node; a node that does not answer gives an
// empty map. Reading resets the nodes' queue averages (wsrep_local_*_queue_avg are
// averages since they were last read), so a snapshot at a window's start makes the
// next one's averages cover that window.
std::vector<WsrepStatus> ReadWsrepStatus(const std::vector<common::DbOptions>& nodes);

// The window's figures, from snapshots at its start and end (one entry per node, in
// the same order) and its length in seconds:
//   write_sets            write sets replicated (transactions committed), all nodes
//   write_set_bytes       their average size
//   cert_failures         transactions refused by certification (a conflicting write
//                         set from another node certified first), all nodes
//   bf_aborts             local transactions aborted to apply a replicated one
//   flow_control_paused   the largest share of the window (0..1) any node spent
//                         paused by flow control
//   flow_control_sent     pause requests sent, all nodes (a node asking the others
//                         to wait while it catches up)
//   recv_queue_avg        the largest average apply queue on any node
//   cert_deps_distance    mean over nodes: how many write sets could be applied in
//                         parallel
// A node missing from either snapshot (it did not answer) is left out; a counter
// missing from a node's snapshot counts as 0.
std::map<std::string, double> GaleraWindowFigures(const std::vector<WsrepStatus>& before,
                                                  const std::vector<WsrepStatus>& after,
                                                  double seconds);

}  // namespace funnel::bench
