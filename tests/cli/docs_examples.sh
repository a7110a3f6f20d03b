#!/usr/bin/env bash
# docs_examples.sh — every `$ wordbench ...` example of docs/cli.md that can
# run on the fixtures is run as printed and must print what the document
# shows (messages exactly; volatile figures masked): tests/cli/docs_examples.py.
# The examples on ../shared/data run when it is there.  Needs /usr/bin/python3.
# Exit 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib.bash"
need_wb docs_examples.sh
if [ -z "${WB_FIXTURES:-}" ]; then
    echo "docs_examples.sh: set WB_FIXTURES (ctest does); skipping" >&2
    exit 77
fi
if [ ! -x /usr/bin/python3 ]; then
    echo "docs_examples.sh: /usr/bin/python3 missing (tools/install-deps.sh installs it); skipping" >&2
    exit 77
fi
SD=${WB_SHARED_DATA:-}
[ -d "$SD" ] || SD=
exec /usr/bin/python3 "$(dirname "$0")/docs_examples.py" "$WB" "$WB_FIXTURES/../docs/cli.md" "$WB_FIXTURES" "$SD"
