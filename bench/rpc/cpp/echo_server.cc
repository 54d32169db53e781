// C++ gRPC echo server for bench/rpc: the fastest official implementation, as the peer our
// layer is measured against. Two serving styles, because which one is faster depends on the
// grpc version: the completion-queue async API (what grpc's own qps benchmarks use) and the
// callback API. `run` uses the default (async), measured faster here with grpc 1.51.
//
//   echo_server --port N [--mode async|callback] [--threads T]
//
// Prints READY on stdout once listening on 127.0.0.1:N (insecure, h2c).
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "echo.grpc.pb.h"

using microservices::bench::v1::EchoRequest;
using microservices::bench::v1::EchoResponse;
using microservices::bench::v1::EchoService;

namespace {

// Callback API: the library's thread pool runs Echo inline and we finish immediately.
class CallbackEcho final : public EchoService::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx, const EchoRequest* req,
                                 EchoResponse* resp) override {
    resp->set_payload(req->payload());
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// Async API: one state machine object per in-flight call, recycled through the completion
// queue. Each CQ is drained by its own thread.
class AsyncCall {
 public:
  AsyncCall(EchoService::AsyncService* svc, grpc::ServerCompletionQueue* cq)
      : svc_(svc), cq_(cq), responder_(&ctx_) {
    svc_->RequestEcho(&ctx_, &req_, &responder_, cq_, cq_, this);
  }

  void Proceed(bool ok) {
    if (finishing_ || !ok) {  // finished, or the server is shutting down
      delete this;
      return;
    }
    new AsyncCall(svc_, cq_);  // keep one call armed for the next request
    resp_.set_payload(req_.payload());
    finishing_ = true;
    responder_.Finish(resp_, grpc::Status::OK, this);
  }

 private:
  EchoService::AsyncService* svc_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext ctx_;
  EchoRequest req_;
  EchoResponse resp_;
  grpc::ServerAsyncResponseWriter<EchoResponse> responder_;
  bool finishing_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  std::string mode = "async";
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--mode")) mode = argv[i + 1];
    else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
  }
  if (port <= 0 || (mode != "async" && mode != "callback")) {
    fprintf(stderr, "usage: %s --port N [--mode async|callback] [--threads T]\n", argv[0]);
    return 2;
  }
  if (threads < 1) threads = 1;

  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials());

  CallbackEcho callback_service;
  EchoService::AsyncService async_service;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs;
  if (mode == "callback") {
    builder.RegisterService(&callback_service);
  } else {
    builder.RegisterService(&async_service);
    for (int i = 0; i < threads; i++) cqs.push_back(builder.AddCompletionQueue());
  }

  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    fprintf(stderr, "failed to listen on 127.0.0.1:%d\n", port);
    return 1;
  }
  printf("READY\n");
  fflush(stdout);

  if (mode == "callback") {
    server->Wait();  // runs until killed
    return 0;
  }

  std::vector<std::thread> workers;
  for (auto& cq : cqs) {
    grpc::ServerCompletionQueue* q = cq.get();
    // Several armed calls per CQ so a burst of new streams doesn't wait for re-arming.
    for (int i = 0; i < 64; i++) new AsyncCall(&async_service, q);
    workers.emplace_back([q] {
      void* tag;
      bool ok;
      while (q->Next(&tag, &ok)) static_cast<AsyncCall*>(tag)->Proceed(ok);
    });
  }
  for (auto& w : workers) w.join();  // runs until killed
  return 0;
}
