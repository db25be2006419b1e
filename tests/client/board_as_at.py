"""A generated client, used as an API client would use it: append a RAG
change with a writer token, then read the board as at that date and find it.

    python board_as_at.py <package dir> <base url> <writer token> <item id>

The package is what openapi-python-client generated from the served
document (tests/generated_client.rs runs this)."""

import datetime
import sys
import uuid

sys.path.insert(0, sys.argv[1])

from client import AuthenticatedClient  # noqa: E402
from client.api.log import one  # noqa: E402
from client.api.views import board  # noqa: E402
from client.models import (  # noqa: E402
    AppendRagChanged,
    AppendRagChangedType,
    BoardPage,
    Dimension,
    Rag,
    RagChangedData,
    Receipt,
)

base, token, item = sys.argv[2], sys.argv[3], uuid.UUID(sys.argv[4])
api = AuthenticatedClient(base_url=base, token=token)
day = datetime.date(2024, 10, 8)

receipt = one.sync(
    client=api,
    body=AppendRagChanged(
        stream=item,
        type_=AppendRagChangedType.RAGCHANGED,
        data=RagChangedData(dimension=Dimension.OVERALL, rag=Rag.RED),
        effective=day,
        reason="Board agreed: the October milestone slipped",
    ),
)
assert isinstance(receipt, Receipt), f"appended: {receipt!r}"

found, after, pages = None, None, 0
while True:
    kwargs = {"as_at": day, "limit": 100}
    if after is not None:
        kwargs["after"] = after
    page = board.sync(client=api, **kwargs)
    assert isinstance(page, BoardPage), f"a board page: {page!r}"
    for i in page.items:
        if i.id == item:
            found = i
    pages += 1
    if not page.next_ or pages > 100:
        break
    after = page.next_

assert found is not None, "the item is on the board as at the day"
overall = found.rag.additional_properties["overall"]
assert overall.value == Rag.RED, overall
assert overall.set_.position == receipt.position, (overall.set_, receipt)
print(f"appended at position {receipt.position}; the board as at {day} shows {found.reference} {overall.value.value}")
