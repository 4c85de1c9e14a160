"""
Execute one notebook with nbclient (scripts/notebooks.ts runs it): python3 notebooks_execute.py SRC DST TIMEOUT_S.

nbclient driver (rather than `jupyter nbconvert --execute`): on a failing cell it prints what the cell printed.
tslab reports compile errors ("Type 'string' is not assignable ...") as cell output, which nbconvert's own error
message leaves out, so a CI log would say only that a cell failed. The executed copy is written either way.
Exit codes: 0 ok, 1 a cell failed.
"""
import os, sys, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
src, dst, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
nb = nbformat.read(src, as_version=4)
client = NotebookClient(nb, timeout=timeout, kernel_name="tslab", resources={"metadata": {"path": os.path.dirname(src)}})
failed = None
try:
    client.execute()
except CellExecutionError:
    # Cells run in order and execution stops at the failure: the failing cell is the last one that ran.
    failed = max((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count") is not None), default=-1)
nbformat.write(nb, dst)
if failed is not None:
    cell = nb.cells[failed] if failed >= 0 else None
    print(f"{src}: cell {failed + 1} failed", file=sys.stderr)
    if cell is not None:
        print("---- cell source ----", cell.source, "---- cell output ----", sep="\n", file=sys.stderr)
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream": print(o.get("text", ""), end="", file=sys.stderr)
            elif o.get("output_type") == "error": print(o.get("ename", ""), o.get("evalue", ""), *o.get("traceback", []), sep="\n", file=sys.stderr)
    sys.exit(1)
