#!/usr/bin/python3
"""Golden vectors for kedge's ListGroups filtering (kafka_codec/topic_filter.h, filter_list_groups).

Kafka's broker answers ListGroups from a client without Describe on the cluster with only the groups the client may
Describe (KafkaApis.handleListGroupsRequest: `if (!authHelper.authorize(..., DESCRIBE, CLUSTER, ...))` the listing
is filtered by `authHelper.authorize(..., DESCRIBE, GROUP, group.groupId, ...)`). kedge filters the broker's
response the same way. Each case is one whole ListGroups response frame a broker sends (response_hex), the group
ids a policy denies (denied: GroupFilter::group_describable is false for exactly these), and the frame the client
must receive (expected_hex): the denied groups removed, everything else as the broker sent it; null when nothing is
denied (filter_list_groups reports changed == false and leaves its output alone).

Responses and expected frames are encoded here from ListGroupsResponse.json (Apache Kafka 4.x, validVersions 0-5,
flexibleVersions 3+): the filter is applied to the logical message and the result encoded again from scratch, so
every count, compact length and the frame size is computed independently. Only the primitive encoder of
../generate.py is shared.

Usage:
  /usr/bin/python3 tests/golden/group_filter/generate_group_filter.py            # (re)write every case file
  /usr/bin/python3 tests/golden/group_filter/generate_group_filter.py --check    # regenerate into a temp dir, diff
  /usr/bin/python3 tests/golden/group_filter/generate_group_filter.py --out DIR  # write into DIR instead
Standard library only.
"""

import copy
import json
import os
import sys

FILTER_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(FILTER_DIR))

from generate import (  # noqa: E402  (tests/golden/generate.py: spec-driven primitive encoder, case-file CLI)
    UNKNOWN_TAGS, ArrayOf, CaseSet, EncodeContext, Field, Struct, enc_int32, enc_tag_buffer, encode_struct)

CORRELATION_ID = 0x0C0FFEE5
FLEXIBLE_FROM = 3
COORDINATOR_LOAD_IN_PROGRESS = 14
# 200 bytes: a compact string length (n + 1) needs a 2-byte unsigned varint.
LONG_GROUP = ("analytics-consumers.eu-west-1." + "g" * 200)[:200]
UNKNOWN_TAG_SMALL = (3, bytes.fromhex("0b6b656467652d74657374"))
UNKNOWN_TAG_WIDE = (130, bytes(range(200)))

# ListGroupsResponse.json
LIST_GROUPS_RESPONSE = Struct("ListGroupsResponse", [
    Field("ThrottleTimeMs", "int32", "1+"),
    Field("ErrorCode", "int16"),
    Field("Groups", ArrayOf(Struct("ListedGroup", [
        Field("GroupId", "string"), Field("ProtocolType", "string"), Field("GroupState", "string", "4+"),
        Field("GroupType", "string", "5+")]))),
])


def response_frame(version, body, header_tags=()):
    """Response header v0 (correlation id), v1 in flexible versions (a tag buffer)."""
    flexible = version >= FLEXIBLE_FROM
    header = enc_int32(CORRELATION_ID) + (enc_tag_buffer(list(header_tags)) if flexible else b"")
    payload = header + encode_struct(LIST_GROUPS_RESPONSE, body, EncodeContext(version, flexible))
    return enc_int32(len(payload)) + payload


def group(group_id, protocol="consumer", state="Stable", kind="classic", tags=False):
    g = {"GroupId": group_id, "ProtocolType": protocol, "GroupState": state, "GroupType": kind}
    if tags:
        g[UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL]
    return g


def listing(groups, error=0, tags=False):
    body = {"ThrottleTimeMs": 25, "ErrorCode": error, "Groups": groups}
    if tags:
        body[UNKNOWN_TAGS] = [UNKNOWN_TAG_WIDE]
    return body


def filtered(body, denied):
    out = copy.deepcopy(body)
    out["Groups"] = [copy.deepcopy(g) for g in body["Groups"] if g["GroupId"] not in denied]
    return out


class Case:
    def __init__(self, version, variant, description, body, denied, header_tags=()):
        self.version = version
        self.variant = variant
        self.description = description
        self.body = body
        self.denied = list(denied)
        self.header_tags = header_tags

    @property
    def file_name(self):
        suffix = "" if self.variant is None else "." + self.variant
        return "list_groups.v%d%s.json" % (self.version, suffix)

    def to_json(self):
        denied = set(self.denied)
        changed = any(g["GroupId"] in denied for g in self.body["Groups"])
        response = response_frame(self.version, self.body, self.header_tags)
        expected = response_frame(self.version, filtered(self.body, denied), self.header_tags)
        doc = {
            "api_key": 16,
            "api_version": self.version,
            "description": self.description,
            "denied": self.denied,
            "response_hex": response.hex(),
            "expected_hex": expected.hex() if changed else None,
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def five_groups(tags=False):
    return [group("payments-app", tags=tags), group("orders-app", state="Empty", tags=tags),
            group(LONG_GROUP, protocol="", tags=tags), group("conn\u00e9ct-\u00fcnicode", protocol="connect", tags=tags),
            group("share-readers", protocol="", state="Stable", kind="share", tags=tags)]


def all_cases():
    cases = []
    for v in range(0, 6):
        names = [g["GroupId"] for g in five_groups()]
        cases.append(Case(v, None, "ListGroups v%d, 5 groups; payments-app (first), the 200-byte id (middle) and "
                          "share-readers (last) denied" % v, listing(five_groups()),
                          ["payments-app", LONG_GROUP, "share-readers", "not-listed"]))
        cases.append(Case(v, "none_denied", "ListGroups v%d, 5 groups, none denied: unchanged" % v,
                          listing(five_groups()), ["Payments-app", "orders-app ", "secret"]))
        cases.append(Case(v, "all_denied", "ListGroups v%d, 5 groups, all denied: an empty listing" % v,
                          listing(five_groups()), names))
        cases.append(Case(v, "one_kept", "ListGroups v%d, all but orders-app denied" % v, listing(five_groups()),
                          [n for n in names if n != "orders-app"]))
        cases.append(Case(v, "no_groups", "ListGroups v%d with no groups: nothing to filter" % v, listing([]),
                          ["orders-app"]))
        cases.append(Case(v, "error", "ListGroups v%d with COORDINATOR_LOAD_IN_PROGRESS and one denied group: the "
                          "error stays" % v, listing([group("orders-app"), group("secret")],
                                                      error=COORDINATOR_LOAD_IN_PROGRESS), ["secret"]))
        if v >= FLEXIBLE_FROM:
            cases.append(Case(v, "unknown_tags", "ListGroups v%d, unknown tags in the header, the body and every "
                              "group; orders-app and the 200-byte id denied (their tags go with them)" % v,
                              listing(five_groups(tags=True), tags=True), ["orders-app", LONG_GROUP],
                              header_tags=[UNKNOWN_TAG_WIDE]))
    return sorted(cases, key=lambda c: c.file_name)


FILTER = CaseSet(lambda: all_cases(), FILTER_DIR, "tests/golden/group_filter/generate_group_filter.py",
                 "group filter vectors", "kedge-group-filter-")


def main(argv=None):
    return FILTER.main(argv, __doc__.split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
