#!/usr/bin/env python3
"""Follow a department's change feed through the gateway, from Python.

Prints one line per event ("<kind> <entity_type> <entity_id> lead=<id> <detail>")
and keeps the last resume token, so that when the stream ends (the service
restarted, the gateway drained, the watcher was too slow) it watches again from
exactly there: every event once, in commit order.

Needs Debian's python3-grpcio and python3-protobuf, and the stubs the build
generates from protos/ (build/python; CMake target python_stubs). Environment:
  FUNNEL_GATEWAY       host:port of the gateway (default 127.0.0.1:50051)
  FUNNEL_KEY           a key whose role may watch (MARKETING for marketing, a
                       sales role for sales, REVENUE_OPS or ADMIN for either)
  FUNNEL_FEED          "marketing" (default) or "sales"
  FUNNEL_RESUME_TOKEN  where to start (default: from now)
  FUNNEL_ONCE          if set, stop at the first end of the stream instead of
                       watching again (prints how it ended and where it stood)
  FUNNEL_PYTHON_STUBS  where the generated stubs are (default: ../../build/python)
"""

import os
import sys
import time

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("FUNNEL_PYTHON_STUBS",
                                  os.path.join(HERE, "..", "..", "build", "python")))

from funnel.feed.v1 import feed_pb2  # noqa: E402
from funnel.marketing.v1 import marketing_service_pb2_grpc as mk_grpc  # noqa: E402
from funnel.sales.v1 import sales_service_pb2_grpc as sa_grpc  # noqa: E402

TOKEN_HEADER = "x-funnel-resume-token"


def header(metadata, key):
    for k, v in metadata or ():
        if k == key:
            return v
    return ""


def watch_once(stub, key, token):
    """One stream: prints events until it ends; returns (status code, last token)."""
    request = feed_pb2.WatchEventsRequest(resume_token=token)
    stream = stub.WatchEvents(request, metadata=[("authorization", "Bearer " + key)])
    print("positioned", header(stream.initial_metadata(), TOKEN_HEADER) or token, flush=True)
    try:
        for event in stream:
            token = event.resume_token
            print(event.kind, event.entity_type, event.entity_id, "lead=%d" % event.lead_id,
                  event.detail, flush=True)
        return grpc.StatusCode.OK, token
    except grpc.RpcError as error:
        # The trailer says where the stream stood when it ended; every event
        # before it was printed above.
        return error.code(), header(error.trailing_metadata(), TOKEN_HEADER) or token


def main():
    channel = grpc.insecure_channel(os.environ.get("FUNNEL_GATEWAY", "127.0.0.1:50051"))
    feed = os.environ.get("FUNNEL_FEED", "marketing")
    stub = (sa_grpc.SalesServiceStub if feed == "sales" else mk_grpc.MarketingServiceStub)(channel)
    key = os.environ["FUNNEL_KEY"]
    token = os.environ.get("FUNNEL_RESUME_TOKEN", "")
    while True:
        code, token = watch_once(stub, key, token)
        print("ended", code.name, token, flush=True)
        if os.environ.get("FUNNEL_ONCE") or code in (grpc.StatusCode.PERMISSION_DENIED,
                                                     grpc.StatusCode.UNAUTHENTICATED,
                                                     grpc.StatusCode.INVALID_ARGUMENT,
                                                     grpc.StatusCode.FAILED_PRECONDITION):
            return 0 if code == grpc.StatusCode.OK else 1
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
