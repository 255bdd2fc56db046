#!/usr/bin/env python3
"""Sync a CRM's deals export into salesperf through its bulk API. Standard library only.

    python sync_opportunities.py deals.csv --url http://127.0.0.1:8000 --token KEY [--batch 1000]

The token: `POST /api/v1/auth/token/` with a manager's or admin's username and password (README,
"API"). The CSV (UTF-8, with or without BOM) has HubSpot's deal export headers:

    Record ID       the deal's id in the CRM: salesperf's external_id, so a re-run updates
    Deal Name       the deal's name
    Amount          e.g. 1200, 1,200.50 or $1,200.50
    Create Date     YYYY-MM-DD (a time after the date is ignored)
    Close Date      YYYY-MM-DD, or empty for an open deal
    Deal Stage      a salesperf stage's name, any case (e.g. Engaging, Won, Lost)
    Deal owner id   the salesperf rep's id (map your CRM's owners to them first)

Rows go in batches (a batch is written whole or not at all); it prints what was created and
updated, and every refused row by its line in the file. Exit status 1 if any batch was refused.
"""

import argparse
import csv
import json
import sys
import urllib.error
import urllib.request


def call(url, token, body=None):
    """(status, JSON answer) of a GET, or a POST of `body` as JSON."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    request.add_header("Authorization", f"Token {token}")
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:  # 400: the batch's errors; other codes: stop
        return error.code, json.load(error)


def stage_ids(base, token):
    status, answer = call(f"{base}/api/v1/stages/?page_size=500", token)
    if status != 200:
        sys.exit(f"Cannot read the stages ({status}): {answer}")
    return {stage["name"].casefold(): stage["id"] for stage in answer["results"]}


def amount(text):
    return text.replace("$", "").replace(",", "").strip() or None


def day(text):
    return text.strip()[:10] or None


def rows_of(path, stages):
    """(line in the file, the API's row) for each deal of the CSV."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        for line, deal in enumerate(csv.DictReader(f), start=2):
            stage = deal["Deal Stage"].strip()
            yield (
                line,
                {
                    "external_id": deal["Record ID"].strip(),
                    "name": deal["Deal Name"].strip(),
                    "amount": amount(deal["Amount"]),
                    "created_on": day(deal["Create Date"]),
                    "closed_on": day(deal["Close Date"]),
                    # An unknown stage goes as its name: salesperf refuses it and says so, by row.
                    "stage": stages.get(stage.casefold(), stage),
                    "rep": deal["Deal owner id"].strip(),
                },
            )


def sync(path, base, token, batch=1000, out=sys.stdout):
    """Posts the file in batches; returns {"created", "updated", "errors": [(line, id, field, message)]}."""
    base = base.rstrip("/")
    rows = list(rows_of(path, stage_ids(base, token)))
    summary = {"created": 0, "updated": 0, "errors": []}
    for start in range(0, len(rows), batch):
        lines, chunk = zip(*rows[start : start + batch], strict=True)
        status, answer = call(f"{base}/api/v1/opportunities/bulk/", token, list(chunk))
        if status == 200:
            summary["created"] += answer["created"]
            summary["updated"] += answer["updated"]
        elif status == 400 and "errors" in answer:
            for e in answer["errors"]:
                line = lines[e["index"]] if e["index"] is not None else None
                summary["errors"].append((line, e["external_id"], e["field"], e["message"]))
        else:
            sys.exit(f"salesperf answered {status}: {answer}")
    print(f"created {summary['created']}, updated {summary['updated']}", file=out)
    for line, external_id, field, message in summary["errors"]:
        where = f"line {line}" if line else "batch"
        print(f"{where}: {external_id}: {field}: {message}", file=out)
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True)
    parser.add_argument("--batch", type=int, default=1000, help="rows a request (at most 10,000)")
    args = parser.parse_args(argv)
    return 1 if sync(args.csv, args.url, args.token, args.batch)["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
