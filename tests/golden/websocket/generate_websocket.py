#!/usr/bin/python3
"""Golden vectors for kedge's WebSocket codec (web/: RFC 6455 framing), made by an independent implementation.

Every frame here is serialized by python3-websockets (Debian's 10.4; websockets.frames.Frame.serialize): client frames
with mask=True, server frames with mask=False. Its masking keys come from secrets.token_bytes, which this script
replaces with a generator seeded by the case's name, so the files are reproducible. Frames that websockets refuses to
serialize (reserved bits, unknown opcodes, oversized or fragmented control frames, non-minimal lengths) are serialized
as the nearest valid frame and then altered in the one header field the case is about (see `alter_*`).

Two kinds of case file:
  parse.<name>.json   a byte stream a client sends (input_hex) and what the server-side codec must make of it with
                      max_message_bytes as its message limit: the events in order (events: text / binary messages
                      with their whole payload, ping, pong, close with code (null for an empty body) and reason) and,
                      when the stream breaks RFC 6455, the close code the server must fail the connection with
                      (close_code; null when it does not). expected_from says who decided: "websockets" (the events
                      and code websockets' own server-side Connection reports for input_hex: websockets.connection.
                      Connection(Side.SERVER), receive_data, events_received, close_sent) or "rfc6455", for the
                      rules websockets 10.4's sans-I/O layer does not check or reads otherwise; then the RFC section
                      is in `rule` and what websockets does is kept in websockets_outcome, for the record:
                        - text messages must be valid UTF-8 (§8.1; 1007), decided by Python's strict utf-8 codec
                          (its incremental decoder for fragments); websockets checks this only above this layer;
                        - lengths must use the minimal encoding, and a 64-bit length's high bit must be 0 (§5.2;
                          1002); websockets accepts the former and reads the latter as too big (1009);
                        - a Close between the fragments of a message closes the connection (§5.4: control frames
                          may be injected between fragments); websockets fails it with 1002;
                        - control frames count against §5.5's 125 bytes, not against the message limit;
                          websockets counts a Ping inside an open fragmented message against max_size.
  encode.<name>.json  a server frame (opcode, fin, payload_hex; or close code and reason) and the bytes websockets
                      serializes for it with mask=False (expected_hex): kedge's frame writer must produce them byte
                      for byte.

Usage:
  /usr/bin/python3 tests/golden/websocket/generate_websocket.py           # (re)write every case file
  /usr/bin/python3 tests/golden/websocket/generate_websocket.py --check   # regenerate into a temp dir and diff (exit 1)
"""
import codecs
import json
import os
import random
import struct
import sys

import websockets
from websockets.connection import Connection, Side, State
from websockets.exceptions import ProtocolError
from websockets.frames import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, Close, Frame)
import websockets.frames

WEBSOCKET_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(WEBSOCKET_DIR))
from generate import CaseSet  # noqa: E402  (tests/golden/generate.py: case-file writing, --check, CLI)

DEFAULT_MAX = 1 << 20  # websockets' default max_size, and the limit every case uses unless it says otherwise


class SeededSecrets:
    """Stands in for the `secrets` module websockets.frames draws masking keys from."""

    def __init__(self, seed):
        self.random = random.Random(seed)

    def token_bytes(self, n):
        return self.random.randbytes(n)


def use_masks_for(case_name):
    websockets.frames.secrets = SeededSecrets("kedge-websocket:" + case_name)


def client(opcode, data=b"", fin=True):
    """One client frame as websockets serializes it (masked)."""
    return Frame(opcode, data, fin).serialize(mask=True)


def server(opcode, data=b"", fin=True):
    return Frame(opcode, data, fin).serialize(mask=False)


def close_body(code, reason=""):
    return Close(code, reason).serialize()


# Alterations of a serialized frame, each touching one header field.

def split_frame(frame):
    """(first byte, MASK bit, payload length, masking key or b"", masked payload) of one serialized frame."""
    head1, head2 = frame[0], frame[1]
    length, at = head2 & 0x7F, 2
    if length == 126:
        length, at = struct.unpack("!H", frame[2:4])[0], 4
    elif length == 127:
        length, at = struct.unpack("!Q", frame[2:10])[0], 10
    key = frame[at:at + 4] if head2 & 0x80 else b""
    at += len(key)
    assert len(frame) == at + length
    return head1, head2 & 0x80, length, key, frame[at:]


def join_frame(head1, mask_bit, length_field, key, payload):
    return bytes([head1, mask_bit | length_field[0]]) + length_field[1:] + key + payload


def alter_first_byte(frame, set_bits=0, clear_bits=0, opcode=None):
    head1 = (frame[0] | set_bits) & ~clear_bits & 0xFF
    if opcode is not None:
        head1 = (head1 & 0xF0) | opcode
    return bytes([head1]) + frame[1:]


def alter_length_form(frame, form):
    """The same frame with its payload length written in a wider, non-minimal form (16 or 64 bits)."""
    head1, mask_bit, length, key, payload = split_frame(frame)
    if form == 16:
        field = bytes([126]) + struct.pack("!H", length)
    else:
        field = bytes([127]) + struct.pack("!Q", length)
    return join_frame(head1, mask_bit, field, key, payload)


# The outcome websockets' server-side Connection reports.

def websockets_outcome(data, max_size):
    connection = Connection(Side.SERVER, State.OPEN, max_size=max_size)
    connection.receive_data(data)
    events, open_message = [], None
    for frame in connection.events_received():
        if frame.opcode in (OP_TEXT, OP_BINARY):
            open_message = (frame.opcode, bytearray(frame.data))
        elif frame.opcode is OP_CONT:
            open_message[1].extend(frame.data)
        elif frame.opcode is OP_CLOSE:
            close = Close.parse(frame.data)
            events.append(close_event(None if not frame.data else close.code, close.reason))
            continue
        else:
            events.append({"type": "ping" if frame.opcode is OP_PING else "pong", "payload_hex": frame.data.hex()})
            continue
        if frame.fin:
            kind, payload = open_message
            events.append({"type": "text" if kind is OP_TEXT else "binary", "payload_hex": bytes(payload).hex()})
            open_message = None
    close_code = connection.close_sent.code if connection.parser_exc is not None else None
    return events, close_code


def close_event(code, reason):
    return {"type": "close", "code": code, "reason": reason}


def message(kind, payload):
    return {"type": kind, "payload_hex": payload.hex()}


def utf8_valid(data):
    try:
        data.decode("utf-8", errors="strict")
        return True
    except UnicodeDecodeError:
        return False


def utf8_prefix_ok(fragments):
    """Whether Python's incremental strict decoder accepts the fragments without an error (a sequence may stay open)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        for fragment in fragments:
            decoder.decode(fragment, final=False)
        return True
    except UnicodeDecodeError:
        return False


class ParseCase:
    def __init__(self, name, description, build, events, close_code, max_message_bytes=DEFAULT_MAX, rule=None):
        """build(): the client byte stream, made with websockets' serializer (masks seeded by `name`). events and
        close_code: what the case is meant to produce. With rule None, websockets' Connection must agree (the
        generator stops otherwise), and its answer is written; with a rule (an RFC 6455 section), the stated outcome
        is written and websockets' own answer recorded beside it."""
        self.name, self.description, self.build = name, description, build
        self.events, self.close_code = events, close_code
        self.max_message_bytes, self.rule = max_message_bytes, rule

    @property
    def file_name(self):
        return "parse.%s.json" % self.name

    def to_json(self):
        use_masks_for(self.name)
        data = self.build()
        ws_events, ws_code = websockets_outcome(data, self.max_message_bytes)
        doc = {"description": self.description, "max_message_bytes": self.max_message_bytes, "input_hex": data.hex()}
        if self.rule is None:
            if (ws_events, ws_code) != (self.events, self.close_code):
                raise AssertionError("%s: websockets says %r / %r, the case says %r / %r"
                                     % (self.name, ws_events, ws_code, self.events, self.close_code))
            doc.update({"events": ws_events, "close_code": ws_code, "expected_from": "websockets"})
        else:
            doc.update({"events": self.events, "close_code": self.close_code, "expected_from": "rfc6455",
                        "rule": self.rule,
                        "websockets_outcome": {"events": ws_events, "close_code": ws_code}})
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


class EncodeCase:
    def __init__(self, name, description, opcode=None, payload=b"", fin=True, close=None):
        self.name, self.description = name, description
        self.opcode, self.payload, self.fin, self.close = opcode, payload, fin, close

    @property
    def file_name(self):
        return "encode.%s.json" % self.name

    def to_json(self):
        doc = {"description": self.description}
        if self.close is not None:
            code, reason = self.close
            doc["close"] = {"code": code, "reason": reason}
            expected = server(OP_CLOSE, close_body(code, reason))
        else:
            doc.update({"opcode": int(self.opcode), "fin": self.fin, "payload_hex": self.payload.hex()})
            expected = server(self.opcode, self.payload, self.fin)
        doc["expected_hex"] = expected.hex()
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def pattern(n, seed):
    """n reproducible payload bytes."""
    return random.Random("payload:%s:%d" % (seed, n)).randbytes(n)


HELLO = b"Hello"
# Code points at the edges of each UTF-8 length and around the surrogates (RFC 3629 §4).
EDGE_TEXT = "\x00\x7f\x80\u07ff\u0800\ud7ff\ue000\ufffd\uffff\U00010000\U0010ffff κόσμε".encode("utf-8")
CLEF = "\U0001d11e".encode("utf-8")  # MUSICAL SYMBOL G CLEF, 4 bytes


def valid_cases():
    cases = [
        ParseCase("text_hello", "RFC 6455 §5.7: a single-frame masked text message \"Hello\"",
                  lambda: client(OP_TEXT, HELLO), [message("text", HELLO)], None),
        ParseCase("binary_small", "a single-frame binary message",
                  lambda: client(OP_BINARY, bytes(range(16))), [message("binary", bytes(range(16)))], None),
        ParseCase("text_empty", "an empty text message", lambda: client(OP_TEXT), [message("text", b"")], None),
        ParseCase("binary_empty", "an empty binary message", lambda: client(OP_BINARY), [message("binary", b"")],
                  None),
        ParseCase("text_fragmented_hello", "RFC 6455 §5.7: a fragmented text message \"Hel\" + \"lo\" (masked)",
                  lambda: client(OP_TEXT, b"Hel", fin=False) + client(OP_CONT, b"lo"), [message("text", HELLO)],
                  None),
        ParseCase("binary_fragmented_empty_middle", "a binary message in three fragments, the middle one empty",
                  lambda: client(OP_BINARY, b"\x01\x02", fin=False) + client(OP_CONT, b"", fin=False)
                  + client(OP_CONT, b"\x03"), [message("binary", b"\x01\x02\x03")], None),
        ParseCase("text_fragmented_empty_first", "a text message whose first fragment is empty",
                  lambda: client(OP_TEXT, b"", fin=False) + client(OP_CONT, HELLO), [message("text", HELLO)], None),
        ParseCase("ping_hello", "RFC 6455 §5.7: a Ping \"Hello\" (masked)", lambda: client(OP_PING, HELLO),
                  [{"type": "ping", "payload_hex": HELLO.hex()}], None),
        ParseCase("pong_hello", "RFC 6455 §5.7: a masked Pong \"Hello\"", lambda: client(OP_PONG, HELLO),
                  [{"type": "pong", "payload_hex": HELLO.hex()}], None),
        ParseCase("ping_empty", "a Ping with no payload", lambda: client(OP_PING),
                  [{"type": "ping", "payload_hex": ""}], None),
        ParseCase("ping_125", "a Ping of 125 bytes, the largest control payload (§5.5)",
                  lambda: client(OP_PING, pattern(125, "ping")),
                  [{"type": "ping", "payload_hex": pattern(125, "ping").hex()}], None),
        ParseCase("close_1000_reason", "a Close with code 1000 and a reason",
                  lambda: client(OP_CLOSE, close_body(1000, "bye")), [close_event(1000, "bye")], None),
        ParseCase("close_empty", "a Close with an empty body (the code is then 1005 locally, never on the wire)",
                  lambda: client(OP_CLOSE), [close_event(None, "")], None),
        ParseCase("close_reason_utf8", "a Close whose reason has multi-byte characters",
                  lambda: client(OP_CLOSE, close_body(4000, "über ✓ \U0001d11e")),
                  [close_event(4000, "über ✓ \U0001d11e")], None),
        ParseCase("close_reason_123", "a Close with the longest reason that fits in 125 bytes",
                  lambda: client(OP_CLOSE, close_body(1001, "r" * 123)), [close_event(1001, "r" * 123)], None),
        ParseCase("data_after_close_ignored", "bytes after a Close are not processed (§1.4), even an invalid frame",
                  lambda: client(OP_CLOSE, close_body(1000)) + client(OP_TEXT, HELLO) + b"\xff\xff",
                  [close_event(1000, "")], None),
        ParseCase("interleaved_control", "Ping and Pong between the fragments of a text message (§5.4)",
                  lambda: client(OP_TEXT, b"He", fin=False) + client(OP_PING, b"p1") + client(OP_CONT, b"l", fin=False)
                  + client(OP_PONG, b"") + client(OP_CONT, b"lo"),
                  [{"type": "ping", "payload_hex": b"p1".hex()}, {"type": "pong", "payload_hex": ""},
                   message("text", HELLO)], None),
        ParseCase("stream_mixed", "several messages and control frames, then a Close",
                  lambda: client(OP_TEXT, b"{\"op\":\"subscribe\"}") + client(OP_BINARY, b"\x00\xff")
                  + client(OP_PING, b"?") + client(OP_BINARY, b"ab", fin=False) + client(OP_CONT, b"cd")
                  + client(OP_TEXT, EDGE_TEXT) + client(OP_CLOSE, close_body(1001, "going")),
                  [message("text", b"{\"op\":\"subscribe\"}"), message("binary", b"\x00\xff"),
                   {"type": "ping", "payload_hex": b"?".hex()}, message("binary", b"abcd"),
                   message("text", EDGE_TEXT), close_event(1001, "going")], None),
        ParseCase("text_utf8_edges", "text with code points at every UTF-8 length edge (RFC 3629)",
                  lambda: client(OP_TEXT, EDGE_TEXT), [message("text", EDGE_TEXT)], None),
        ParseCase("message_exactly_max", "a fragmented message of exactly max_message_bytes",
                  lambda: client(OP_BINARY, b"a" * 10, fin=False) + client(OP_CONT, b"b" * 6),
                  [message("binary", b"a" * 10 + b"b" * 6)], None, max_message_bytes=16),
        ParseCase("ping_while_message_full", "a Ping between fragments when the message already holds the maximum",
                  lambda: client(OP_TEXT, b"x" * 16, fin=False) + client(OP_PING, b"still here") + client(OP_CONT),
                  [{"type": "ping", "payload_hex": b"still here".hex()}, message("text", b"x" * 16)], None,
                  max_message_bytes=16,
                  rule="§5.5: control frames are bounded by 125 bytes, not by the data message limit"),
    ]
    for n in (125, 126, 127, 65536):
        form = "7-bit" if n <= 125 else "16-bit" if n <= 65535 else "64-bit"
        cases.append(ParseCase("binary_%d" % n, "a binary message of %d bytes (%s length, §5.2)" % (n, form),
                               lambda n=n: client(OP_BINARY, pattern(n, "binary")),
                               [message("binary", pattern(n, "binary"))], None))
    for split in range(1, len(CLEF)):
        cases.append(ParseCase("text_utf8_split_%d_%d" % (split, len(CLEF) - split),
                               "a 4-byte character split %d|%d across two fragments (§8.1 validates the message)"
                               % (split, len(CLEF) - split),
                               lambda s=split: client(OP_TEXT, b"a" + CLEF[:s], fin=False)
                               + client(OP_CONT, CLEF[s:] + b"z"),
                               [message("text", b"a" + CLEF + b"z")], None))
    for code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999):
        cases.append(ParseCase("close_code_%d" % code, "a Close with code %d, which may travel on the wire (§7.4)"
                               % code, lambda c=code: client(OP_CLOSE, struct.pack("!H", c)),
                               [close_event(code, "")], None))
    return cases


def protocol_error_cases():
    cases = [
        ParseCase("unmasked_text", "RFC 6455 §5.7's unmasked \"Hello\" sent by a client: §5.1 requires the mask",
                  lambda: server(OP_TEXT, HELLO), [], 1002),
        ParseCase("fragmented_ping", "a Ping with FIN clear (§5.5: control frames are never fragmented)",
                  lambda: alter_first_byte(client(OP_PING, b"x"), clear_bits=0x80), [], 1002),
        ParseCase("fragmented_close", "a Close with FIN clear",
                  lambda: alter_first_byte(client(OP_CLOSE, close_body(1000)), clear_bits=0x80), [], 1002),
        ParseCase("ping_126", "a Ping of 126 bytes (§5.5: at most 125)",
                  lambda: alter_first_byte(client(OP_BINARY, pattern(126, "ping")), opcode=0x9), [], 1002),
        ParseCase("close_126", "a Close of 126 bytes",
                  lambda: alter_first_byte(client(OP_BINARY, close_body(1000, "r" * 124)), opcode=0x8), [], 1002),
        ParseCase("pong_256", "a Pong of 256 bytes (16-bit length)",
                  lambda: alter_first_byte(client(OP_BINARY, pattern(256, "pong")), opcode=0xA), [], 1002),
        ParseCase("unexpected_continuation", "a continuation frame with no message open (§5.4)",
                  lambda: client(OP_CONT, b"lo"), [], 1002),
        ParseCase("continuation_after_complete", "a continuation after a message that ended with FIN",
                  lambda: client(OP_TEXT, HELLO) + client(OP_CONT, b"!"), [message("text", HELLO)], 1002),
        ParseCase("text_inside_fragmented", "a new text frame while a fragmented message is open (§5.4)",
                  lambda: client(OP_TEXT, b"Hel", fin=False) + client(OP_TEXT, b"lo"), [], 1002),
        ParseCase("binary_inside_fragmented", "a new binary frame while a fragmented text message is open",
                  lambda: client(OP_TEXT, b"Hel", fin=False) + client(OP_PING, b"") + client(OP_BINARY, b"lo"),
                  [{"type": "ping", "payload_hex": ""}], 1002),
        ParseCase("close_one_byte", "a Close whose body is one byte (§5.5.1: a code is two)",
                  lambda: client(OP_CLOSE, b"\x03"), [], 1002),
        ParseCase("close_reason_not_utf8", "a Close whose reason is not UTF-8 (§8.1)",
                  lambda: client(OP_CLOSE, struct.pack("!H", 1000) + b"\xc0\xaf"), [], 1007),
        ParseCase("close_reason_surrogate", "a Close whose reason holds an encoded surrogate",
                  lambda: client(OP_CLOSE, struct.pack("!H", 1000) + b"ok \xed\xa0\x80"), [], 1007),
        ParseCase("too_big_single_frame", "one frame announcing more than max_message_bytes (1009)",
                  lambda: client(OP_TEXT, b"x" * 17), [], 1009, max_message_bytes=16),
        ParseCase("too_big_across_fragments", "fragments adding up to more than max_message_bytes (1009)",
                  lambda: client(OP_BINARY, b"a" * 10, fin=False) + client(OP_CONT, b"b" * 7), [], 1009,
                  max_message_bytes=16),
        ParseCase("too_big_after_messages", "a message past the limit after smaller ones were delivered",
                  lambda: client(OP_BINARY, b"a" * 16) + client(OP_TEXT, b"b" * 16) + client(OP_BINARY, b"c" * 17),
                  [message("binary", b"a" * 16), message("text", b"b" * 16)], 1009, max_message_bytes=16),
    ]
    for bit, name in ((0x40, "rsv1"), (0x20, "rsv2"), (0x10, "rsv3")):
        cases.append(ParseCase("reserved_bit_%s" % name, "a text frame with %s set, no extension negotiated (§5.2)"
                               % name.upper(), lambda b=bit: alter_first_byte(client(OP_TEXT, HELLO), set_bits=b),
                               [], 1002))
    for opcode in (0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF):
        cases.append(ParseCase("opcode_%x" % opcode, "a frame with the reserved opcode 0x%X (§5.2)" % opcode,
                               lambda o=opcode: client(OP_TEXT, HELLO) + alter_first_byte(client(OP_BINARY, b"?"),
                                                                                         opcode=o),
                               [message("text", HELLO)], 1002))
    for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535):
        cases.append(ParseCase("close_code_%d" % code, "a Close with code %d, which may not travel on the wire (§7.4)"
                               % code, lambda c=code: client(OP_CLOSE, struct.pack("!H", c)), [], 1002))
    return cases


def rfc_only_cases():
    """The outcomes websockets 10.4's sans-I/O layer does not decide as RFC 6455 does (see the module docstring)."""
    cases = []
    invalid_texts = [
        ("overlong_slash", b"a\xc0\xaf", "an overlong '/' (C0 AF)"),
        ("overlong_3byte", b"\xe0\x80\xaf", "an overlong 3-byte form (E0 80 AF)"),
        ("overlong_4byte", b"\xf0\x82\x82\xac", "an overlong 4-byte form of U+20AC"),
        ("surrogate_high", b"\xed\xa0\x80", "U+D800 encoded (a surrogate)"),
        ("surrogate_low", b"x\xed\xbf\xbf", "U+DFFF encoded (a surrogate)"),
        ("above_10ffff", b"\xf4\x90\x80\x80", "U+110000 (above U+10FFFF)"),
        ("byte_f5", b"\xf5\x80\x80\x80", "a lead byte F5"),
        ("byte_ff", b"\xff", "the byte FF"),
        ("lone_continuation", b"ok\x80", "a continuation byte with no lead"),
        ("truncated_end", b"caf\xc3", "a text message ending inside a 2-byte sequence"),
        ("truncated_4byte", CLEF[:3], "a text message ending inside a 4-byte sequence"),
    ]
    for name, payload, what in invalid_texts:
        assert not utf8_valid(payload)
        cases.append(ParseCase("text_invalid_%s" % name, "a text message holding %s: 1007 (§8.1)" % what,
                               lambda p=payload: client(OP_TEXT, p), [], 1007,
                               rule="§8.1: text must be valid UTF-8, decided by Python's strict utf-8 codec"))
    # An invalid byte in the first fragment fails before the message ends (fail fast, §8.1).
    first = b"ab\xe0\x80"
    assert not utf8_prefix_ok([first])
    cases.append(ParseCase("text_invalid_first_fragment",
                           "an overlong form begun in the first fragment of an unfinished text message: 1007 at once",
                           lambda: client(OP_TEXT, first, fin=False) + client(OP_PING, b"after"), [], 1007,
                           rule="§8.1: invalid UTF-8 fails the connection as soon as it is seen"))
    split_bad = (b"a\xf4", b"\x90\x80\x80")
    assert utf8_prefix_ok(split_bad[:1]) and not utf8_prefix_ok(split_bad)
    cases.append(ParseCase("text_invalid_split_across_fragments",
                           "U+110000 split across fragments: the first fragment is a valid prefix, the second is not",
                           lambda: client(OP_TEXT, split_bad[0], fin=False) + client(OP_PING, b"between")
                           + client(OP_CONT, split_bad[1]),
                           [{"type": "ping", "payload_hex": b"between".hex()}], 1007,
                           rule="§8.1: the message's bytes are validated across fragments"))
    cases.append(ParseCase("text_truncated_at_last_fragment",
                           "a 4-byte character begun in the last fragment and never finished",
                           lambda: client(OP_TEXT, b"ok", fin=False) + client(OP_CONT, CLEF[:2]), [], 1007,
                           rule="§8.1: a text message must end on a character boundary"))
    cases.append(ParseCase("binary_not_utf8_is_fine", "the same invalid bytes in a binary message are just bytes",
                           lambda: client(OP_BINARY, b"\xed\xa0\x80\xff"), [message("binary", b"\xed\xa0\x80\xff")],
                           None, rule="§5.6: only text is UTF-8; websockets agrees"))
    cases.append(ParseCase("length_16_non_minimal", "a 5-byte text frame with its length in the 16-bit form",
                           lambda: alter_length_form(client(OP_TEXT, HELLO), 16), [], 1002,
                           rule="§5.2: the minimal number of bytes MUST be used to encode the length"))
    cases.append(ParseCase("length_64_non_minimal_small", "a 5-byte text frame with its length in the 64-bit form",
                           lambda: alter_length_form(client(OP_TEXT, HELLO), 64), [], 1002,
                           rule="§5.2: the minimal number of bytes MUST be used to encode the length"))
    cases.append(ParseCase("length_64_non_minimal_126", "a 126-byte frame with its length in the 64-bit form",
                           lambda: alter_length_form(client(OP_BINARY, pattern(126, "binary")), 64), [], 1002,
                           rule="§5.2: the minimal number of bytes MUST be used to encode the length"))
    cases.append(ParseCase("length_64_high_bit", "a 64-bit length with its most significant bit set (header only)",
                           lambda: join_frame(0x82, 0x80, bytes([127]) + struct.pack("!Q", (1 << 63) | 5),
                                              client(OP_BINARY, b"")[2:6], b""), [], 1002,
                           rule="§5.2: the most significant bit of the 64-bit length MUST be 0"))
    cases.append(ParseCase("close_inside_fragmented", "a Close between the fragments of a message: the message "
                           "is abandoned, the Close is reported and nothing after it is processed",
                           lambda: client(OP_TEXT, b"Hel", fin=False) + client(OP_CLOSE, close_body(1000, "bye"))
                           + client(OP_CONT, b"lo"), [close_event(1000, "bye")], None,
                           rule="§5.4: control frames MAY be injected in the middle of a fragmented message"))
    return cases


def encode_cases():
    cases = [
        EncodeCase("text_hello", "RFC 6455 §5.7: a single-frame unmasked text message \"Hello\"", OP_TEXT, HELLO),
        EncodeCase("text_fragment_hel", "RFC 6455 §5.7: first fragment \"Hel\" of a text message", OP_TEXT, b"Hel",
                   fin=False),
        EncodeCase("continuation_lo", "RFC 6455 §5.7: last fragment \"lo\"", OP_CONT, b"lo"),
        EncodeCase("continuation_middle", "a middle fragment (FIN clear)", OP_CONT, b"middle", fin=False),
        EncodeCase("ping_hello", "RFC 6455 §5.7: an unmasked Ping \"Hello\"", OP_PING, HELLO),
        EncodeCase("pong_hello", "the Pong answering it", OP_PONG, HELLO),
        EncodeCase("pong_empty", "an empty Pong", OP_PONG, b""),
        EncodeCase("text_empty", "an empty text message", OP_TEXT, b""),
        EncodeCase("text_utf8_edges", "text with multi-byte characters", OP_TEXT, EDGE_TEXT),
        EncodeCase("close_empty_body", "a Close with an empty body", OP_CLOSE, b""),
        EncodeCase("close_reason_123", "a Close with the longest reason", close=(1000, "r" * 123)),
        EncodeCase("close_utf8_reason", "a Close with a multi-byte reason", close=(4001, "ça ✓")),
    ]
    for n in (125, 126, 256, 65536):
        cases.append(EncodeCase("binary_%d" % n, "RFC 6455 §5.7 / §5.2: a binary message of %d bytes" % n,
                                OP_BINARY, pattern(n, "encode")))
    for code, reason in ((1000, ""), (1001, "shutting down"), (1002, "unknown opcode"),
                         (1007, "text message is not valid UTF-8"), (1009, "message larger than the configured maximum"),
                         (1011, "internal error"), (3000, "registered"), (4999, "private")):
        cases.append(EncodeCase("close_%d" % code, "a Close with code %d" % code, close=(code, reason)))
    return cases


def all_cases():
    cases = valid_cases() + protocol_error_cases() + rfc_only_cases() + encode_cases()
    names = [c.file_name for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError("duplicate case files: %s" % duplicates)
    return sorted(cases, key=lambda c: c.file_name)


WEBSOCKET = CaseSet(all_cases, WEBSOCKET_DIR, "tests/golden/websocket/generate_websocket.py", "websocket vectors",
                    "kedge-websocket-")


def main(argv=None):
    if websockets.__version__.split(".")[0] != "10":
        print("note: written with python3-websockets 10.4, running %s" % websockets.__version__, file=sys.stderr)
    return WEBSOCKET.main(argv, __doc__.split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
