"""Attachments (by file name, at most 10 per document, 10 MB each) and History notes."""

from __future__ import annotations

import re
from urllib.parse import quote

from abxero_sim.xero.batch import elements_of
from abxero_sim.xero.call import Call, Reply, not_found, problem, validation_exception
from abxero_sim.xero.doc_resources import KINDS
from abxero_sim.xero.documents import store_of
from abxero_sim.xero.state import Record
from abxero_sim.xero.wire import dumps

MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_NOTE_LENGTH = 2500
_BAD_NAME = re.compile(r'[<>:"/\\|?*\0+]')


def _document(call: Call) -> Record | None:
    kind = KINDS.get(call.parts[0])
    if kind is None:
        return None
    return store_of(call.org, kind).get(call.parts[1].lower())


def _public(item: Record) -> Record:
    return {k: v for k, v in item.items() if k != "Content"}


def attachments(call: Call) -> Reply:
    document = _document(call)
    if document is None:
        return not_found(call.parts[0])
    stored = call.org.attachments.setdefault(call.parts[1].lower(), [])
    if call.method == "GET":
        return _read_attachments(call, stored)
    name = call.parts[3] if len(call.parts) > 3 else ""
    if not name or _BAD_NAME.search(name):
        return validation_exception(message="The file name is not valid.")
    if len(call.body) > MAX_ATTACHMENT_BYTES:
        return problem(413, "Request Entity Too Large", "The file exceeds the 10 MB limit.")
    existing = next((a for a in stored if a["FileName"] == name), None)
    if existing is None and len(stored) >= MAX_ATTACHMENTS:
        return validation_exception(message="A document can have a maximum of 10 attachments.")
    if existing is not None:
        stored.remove(existing)
    item: Record = {
        "AttachmentID": call.ctx.ids.guid("attachment"),
        "FileName": name,
        "Url": f"https://api.xero.com/api.xro/2.0/{call.parts[0]}/{call.parts[1]}/Attachments/{quote(name)}",
        "MimeType": call.content_type or "application/octet-stream",
        "ContentLength": len(call.body),
        "IncludeOnline": call.flag("IncludeOnline"),
        "Content": call.body,
    }
    stored.append(item)
    document["HasAttachments"] = True
    reply = call.envelope("Attachments", [_public(item)])
    reply.wrote = True
    return reply


def _read_attachments(call: Call, stored: list[Record]) -> Reply:
    if len(call.parts) > 3:
        found = next((a for a in stored if a["FileName"] == call.parts[3]), None)
        if found is None:
            return not_found("Attachment")
        return Reply(200, bytes(found["Content"]), str(found["MimeType"]))
    return call.envelope("Attachments", [_public(a) for a in stored])


def history(call: Call) -> Reply:
    if _document(call) is None:
        return not_found(call.parts[0])
    records = call.org.history.setdefault(call.parts[1].lower(), [])
    if call.method == "GET":
        return call.envelope("HistoryRecords", list(records))
    notes = elements_of(call, "HistoryRecords") or []
    added = []
    for note in notes:
        details = str(note.get("Details") or "") if isinstance(note, dict) else ""
        if not details or len(details) > MAX_NOTE_LENGTH:
            body = {
                "ErrorNumber": 10,
                "Type": "ValidationException",
                "Message": "A history note must have between 1 and 2500 characters.",
                "Elements": [{"ValidationErrors": [{"Message": "Details is invalid"}]}],
            }
            return Reply(400, dumps(body))
        record = {
            "Changes": "Note",
            "DateUTC": call.ctx.now,
            "User": "System Generated",
            "Details": details,
        }
        records.append(record)
        added.append(record)
    reply = call.envelope("HistoryRecords", added)
    reply.wrote = True
    return reply
