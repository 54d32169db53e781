// C++ gRPC echo client for bench/rpc: closed-loop unary Echo calls.
//
//   echo_client --target 127.0.0.1:PORT --connections 4 --streams 16 --duration 10 \
//               --warmup 2 --payload 64
//
// Opens `connections` channels (each its own TCP connection: a local subchannel pool plus a
// unique channel arg, so they can't share a subchannel) and keeps `streams` calls outstanding
// on each; a finished call is immediately replaced. Calls that finish during the warm-up are
// not counted. Optional --threads T sets the worker threads (default: one per core).
// Prints one line: rps=<float> p50_ms=<float> p99_ms=<float> errors=<int>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "echo.grpc.pb.h"

using microservices::bench::v1::EchoRequest;
using microservices::bench::v1::EchoResponse;
using microservices::bench::v1::EchoService;
using Clock = std::chrono::steady_clock;

namespace {

struct Call {
  std::unique_ptr<grpc::ClientContext> ctx;
  EchoResponse resp;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<EchoResponse>> reader;
  Clock::time_point start;
};

struct Result {
  std::vector<double> latencies_us;  // calls finished inside the measured window
  long errors = 0;                   // failed or wrong-payload calls, warm-up included
};

// One worker thread drives one completion queue shared by its channels (connections are dealt
// round-robin to min(connections, cores) workers: more threads than cores only adds switching).
struct Slot {
  Call call;
  EchoService::Stub* stub;
};

void RunWorker(const std::string& target, std::vector<int> connection_indices, int streams,
               const EchoRequest& req, Clock::time_point measure_start,
               Clock::time_point measure_end, Result* out) {
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<EchoService::Stub>> stubs;
  for (int index : connection_indices) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("bench.connection_index", index);  // unique args: never a shared subchannel
    stubs.push_back(EchoService::NewStub(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args)));
  }

  std::vector<Slot> slots(stubs.size() * streams);
  for (size_t i = 0; i < slots.size(); i++) slots[i].stub = stubs[i / streams].get();
  auto start_call = [&](Slot& s) {
    Call& c = s.call;
    c.ctx = std::make_unique<grpc::ClientContext>();
    c.resp.Clear();
    c.start = Clock::now();
    c.reader = s.stub->AsyncEcho(c.ctx.get(), req, &cq);
    c.reader->Finish(&c.resp, &c.status, &s);
  };
  for (auto& s : slots) start_call(s);

  size_t outstanding = slots.size();
  void* tag;
  bool ok;
  while (outstanding > 0 && cq.Next(&tag, &ok)) {
    Slot& s = *static_cast<Slot*>(tag);
    Call& c = s.call;
    auto now = Clock::now();
    bool good = ok && c.status.ok() && c.resp.payload() == req.payload();
    if (!good) {
      out->errors++;
      if (out->errors <= 3 && !c.status.ok())
        fprintf(stderr, "call failed: %d %s\n", c.status.error_code(),
                c.status.error_message().c_str());
    } else if (now >= measure_start && now < measure_end) {
      out->latencies_us.push_back(
          std::chrono::duration<double, std::micro>(now - c.start).count());
    }
    if (now < measure_end) start_call(s);
    else outstanding--;
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {}
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  std::string target;
  int connections = 4, streams = 16, payload = 64, threads_opt = 0;
  double duration = 10, warmup = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--target") target = v;
    else if (k == "--connections") connections = atoi(v);
    else if (k == "--streams") streams = atoi(v);
    else if (k == "--duration") duration = atof(v);
    else if (k == "--warmup") warmup = atof(v);
    else if (k == "--payload") payload = atoi(v);
    else if (k == "--threads") threads_opt = atoi(v);  // worker threads; default: cores
    else { fprintf(stderr, "unknown option %s\n", k.c_str()); return 2; }
  }
  if (target.empty() || connections < 1 || streams < 1 || duration <= 0 || payload < 0) {
    fprintf(stderr, "usage: %s --target HOST:PORT [--connections N] [--streams N] "
                    "[--duration S] [--warmup S] [--payload BYTES]\n", argv[0]);
    return 2;
  }

  EchoRequest req;
  std::string bytes(payload, '\0');
  for (int i = 0; i < payload; i++) bytes[i] = static_cast<char>('a' + i % 26);
  req.set_payload(bytes);

  auto t0 = Clock::now();
  auto measure_start = t0 + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(warmup));
  auto measure_end = measure_start + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(duration));

  int workers = std::min<int>(connections, threads_opt > 0 ? threads_opt
                                          : std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::vector<int>> assignment(workers);
  for (int i = 0; i < connections; i++) assignment[i % workers].push_back(i);
  std::vector<Result> results(workers);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; w++)
    threads.emplace_back(RunWorker, target, assignment[w], streams, std::cref(req),
                         measure_start, measure_end, &results[w]);
  for (auto& t : threads) t.join();

  std::vector<double> all;
  long errors = 0;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    errors += r.errors;
  }
  double rps = all.size() / duration;
  double p50 = Percentile(all, 0.50) / 1000, p99 = Percentile(all, 0.99) / 1000;
  printf("rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%ld\n", rps, p50, p99, errors);
  return 0;
}
