// The floor of `turnout-bench watch`: a bare gRPC fan-out, the least any server-streaming service
// can do to send one update to many streams. A callback server-streaming RPC (Floor.Watch,
// tools/bench/proto/floor.proto) whose broadcaster makes an update of a fixed size every interval
// and offers the one shared message to every stream; each stream holds one write in flight and one
// coalescing slot that a newer update overwrites, as WatchAttendance does. No authentication, no
// database, no per-event feeds. gRPC serializes the message for each stream, as a plain service
// does.
//
// It runs as its own process (`turnout-bench floor-server`), so its memory and CPU are measured
// alone, as turnout-server's are.
#ifndef TURNOUT_TOOLS_BENCH_FLOOR_SERVER_H_
#define TURNOUT_TOOLS_BENCH_FLOOR_SERVER_H_

namespace turnout::bench {

// `turnout-bench floor-server`: serves on 127.0.0.1 (a free port, printed as "listening on port
// N"), broadcasts every --floor_interval an update of --update_bytes, and exits when its stdin
// closes or on SIGTERM.
int RunFloorServer();

}  // namespace turnout::bench

#endif  // TURNOUT_TOOLS_BENCH_FLOOR_SERVER_H_
