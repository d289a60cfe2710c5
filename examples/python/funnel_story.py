#!/usr/bin/env python3
"""Funnel's whole story through the gateway, from Python.

A campaign brings a lead in; touchpoints make it HOT, which hands it to sales;
sales assigns, accepts, moves and wins the deal; the campaign shows the revenue.
Along the way: reading an error a program can act on, and retrying a write safely
with a request_id.

Needs Debian's python3-grpcio and python3-protobuf, and the stubs the build
generates from protos/ (build/python; CMake target python_stubs). Environment:
  FUNNEL_GATEWAY        host:port of the gateway (default 127.0.0.1:50051)
  FUNNEL_MARKETING_KEY  a MARKETING key
  FUNNEL_ADMIN_KEY      an ADMIN key (creates the rep and works the deal here)
  FUNNEL_PYTHON_STUBS   where the generated stubs are (default: ../../build/python)
"""

import os
import sys
import time
import uuid

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("FUNNEL_PYTHON_STUBS",
                                  os.path.join(HERE, "..", "..", "build", "python")))

from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from funnel.handoff.v1 import handoff_pb2 as contract  # noqa: E402
from funnel.handoff.v1 import types_pb2 as types  # noqa: E402
from funnel.marketing.v1 import marketing_service_pb2 as mk  # noqa: E402
from funnel.marketing.v1 import marketing_service_pb2_grpc as mk_grpc  # noqa: E402
from funnel.sales.v1 import sales_service_pb2 as sa  # noqa: E402
from funnel.sales.v1 import sales_service_pb2_grpc as sa_grpc  # noqa: E402


def bearer(key):
    """Call metadata that authenticates as `key`'s principal."""
    return [("authorization", "Bearer " + key)]


def error_details(error):
    """The AIP-193 details of a failed call: google.rpc.Status from the
    grpc-status-details-bin trailer, unpacked into ErrorInfo, BadRequest, ..."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            found = {}
            for any_detail in status.details:
                for kind in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest,
                             error_details_pb2.PreconditionFailure, error_details_pb2.RetryInfo):
                    if any_detail.Is(kind.DESCRIPTOR):
                        detail = kind()
                        any_detail.Unpack(detail)
                        found[kind.__name__] = detail
            return found
    return {}


def wait_for(what, check, timeout_s=15.0):
    """Polls `check` until it returns something truthy; that value, or fails."""
    give_up = time.monotonic() + timeout_s
    while time.monotonic() < give_up:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise SystemExit(f"gave up waiting for {what}")


def main():
    address = os.environ.get("FUNNEL_GATEWAY", "127.0.0.1:50051")
    marketing_key = os.environ["FUNNEL_MARKETING_KEY"]
    admin_key = os.environ["FUNNEL_ADMIN_KEY"]
    channel = grpc.insecure_channel(address)
    marketing = mk_grpc.MarketingServiceStub(channel)
    sales = sa_grpc.SalesServiceStub(channel)
    as_marketing = bearer(marketing_key)
    as_admin = bearer(admin_key)
    deadline_s = 10  # every call has one; the gateway carries it to the database

    # 1. A campaign, made active.
    campaign = marketing.CreateCampaign(
        mk.CreateCampaignRequest(campaign=mk.Campaign(name=f"Python launch {uuid.uuid4().hex[:8]}",
                                                      channel=mk.CHANNEL_EVENT)),
        metadata=as_marketing, timeout=deadline_s)
    campaign = marketing.UpdateCampaign(
        mk.UpdateCampaignRequest(campaign=mk.Campaign(campaign_id=campaign.campaign_id,
                                                      state=mk.CAMPAIGN_STATE_ACTIVE),
                                 update_mask={"paths": ["state"]}),
        metadata=as_marketing, timeout=deadline_s)
    print(f"campaign {campaign.campaign_id} is {mk.CampaignState.Name(campaign.state)}")

    # 2. An error a program can act on: the code says what kind, the details say
    # which field and why (the message says the same for people).
    try:
        marketing.CaptureLead(
            mk.CaptureLeadRequest(contact=types.Contact(email="not-an-address", company_size=-1),
                                  campaign_id=-5),
            metadata=as_marketing, timeout=deadline_s)
        raise SystemExit("a capture without a valid email was accepted")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e.code()
        print(f"bad capture refused: {e.code().name}: {e.details()}")
        details = error_details(e)
        info, bad = details["ErrorInfo"], details["BadRequest"]
        print(f"  reason {info.reason} (domain {info.domain})")
        for violation in bad.field_violations:
            print(f"  field {violation.field}: {violation.description}")
        assert info.reason == "FIELD_INVALID", info.reason
        assert [v.field for v in bad.field_violations] == [
            "contact.email", "contact.company_size", "campaign_id"], bad.field_violations

    # 3. A capture, retried with the same request_id (as after a timeout): the
    # retry is answered with the first answer and creates nothing.
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    capture = mk.CaptureLeadRequest(
        contact=types.Contact(email=email, first_name="Ada", company="Analytical Engines"),
        campaign_id=campaign.campaign_id, touchpoint_type=types.TOUCHPOINT_TYPE_EVENT_ATTENDED,
        request_id=str(uuid.uuid4()))
    first = marketing.CaptureLead(capture, metadata=as_marketing, timeout=deadline_s)
    again = marketing.CaptureLead(capture, metadata=as_marketing, timeout=deadline_s)
    assert again.replayed and again.lead.lead_id == first.lead.lead_id
    lead_id = first.lead.lead_id
    print(f"lead {lead_id} captured (created={first.created}); the retry replayed it")

    # 4. Touchpoints until the lead is HOT: marketing hands it to sales by itself.
    for kind in (types.TOUCHPOINT_TYPE_DEMO_REQUEST, types.TOUCHPOINT_TYPE_WEB_VISIT,
                 types.TOUCHPOINT_TYPE_EMAIL_CLICK):
        touched = marketing.RecordTouchpoint(
            mk.RecordTouchpointRequest(lead_id=lead_id, campaign_id=campaign.campaign_id,
                                       type=kind),
            metadata=as_marketing, timeout=deadline_s)
    print(f"lead {lead_id} is {types.Temperature.Name(touched.lead.temperature)} "
          f"(score {touched.lead.score:g})")

    # 5. Sales sees the handoff.
    def pending():
        listed = sales.ListHandoffs(
            sa.ListHandoffsRequest(state=sa.HANDOFF_STATE_PENDING, lead_id=lead_id),
            metadata=as_admin, timeout=deadline_s)
        return listed.handoffs[0] if listed.handoffs else None
    handoff = wait_for("the handoff in sales", pending)
    print(f"handoff {handoff.handoff_id} is waiting in sales")

    # 6. A rep takes it: assign, accept (an opportunity), move, close won.
    rep = sales.CreateRep(
        sa.CreateRepRequest(rep=sa.Rep(name="Grace", email=f"grace-{uuid.uuid4().hex[:8]}@example.com",
                                       role=sa.REP_ROLE_REP)),
        metadata=as_admin, timeout=deadline_s)
    sales.AssignHandoff(sa.AssignHandoffRequest(handoff_id=handoff.handoff_id, rep_id=rep.rep_id),
                        metadata=as_admin, timeout=deadline_s)
    accepted = sales.AcceptHandoff(sa.AcceptHandoffRequest(handoff_id=handoff.handoff_id),
                                   metadata=as_admin, timeout=deadline_s)
    opportunity = accepted.opportunity
    opportunity = sales.MoveOpportunityStage(
        sa.MoveOpportunityStageRequest(opportunity_id=opportunity.opportunity_id,
                                       stage=sa.STAGE_QUALIFICATION, etag=opportunity.etag),
        metadata=as_admin, timeout=deadline_s)
    won = sales.CloseOpportunity(
        sa.CloseOpportunityRequest(opportunity_id=opportunity.opportunity_id,
                                   outcome=contract.OUTCOME_WON,
                                   amount=types.Money(currency_code="USD", amount_minor=1234500)),
        metadata=as_admin, timeout=deadline_s)
    print(f"opportunity {won.opportunity_id} is {sa.Stage.Name(won.stage)}")

    # 7. The campaign shows the revenue once the outcome has crossed the contract.
    def revenue():
        metrics = marketing.GetCampaignMetrics(
            mk.GetCampaignMetricsRequest(campaign_id=campaign.campaign_id),
            metadata=as_marketing, timeout=deadline_s)
        return metrics if metrics.won_deals == 1 else None
    metrics = wait_for("the won deal in the campaign's metrics", revenue)
    for r in metrics.revenue:
        print(f"campaign revenue ({mk.AttributionModel.Name(r.model)}): "
              f"{r.revenue.amount_minor / 100:.2f} {r.revenue.currency_code}")
    assert any(r.revenue.amount_minor == 1234500 for r in metrics.revenue)
    print("story complete")


if __name__ == "__main__":
    main()
