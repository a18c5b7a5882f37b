"""``stack_room.call_with_stack_room``: a plain call, from a frame larger than a CPython stack chunk.

Whether it saves the chunk churn is a matter of speed, shown by the benchmarks (benchmarks/notes.md), not here.
"""

import pytest

from wagtail_customers.stack_room import _CHUNK_SLOTS, call_with_stack_room


def test_it_calls_the_function_with_its_arguments():
    assert call_with_stack_room(lambda *args, **kwargs: (args, kwargs), 1, 2, key="value") == ((1, 2), {"key": "value"})
    assert call_with_stack_room(sorted, [3, 1, 2]) == [1, 2, 3]


def test_an_exception_comes_through():
    def fails():
        raise LookupError("kept")

    with pytest.raises(LookupError, match="kept"):
        call_with_stack_room(fails)


def test_its_frame_is_larger_than_a_chunk():
    code = call_with_stack_room.__code__
    # Each local variable takes a pointer slot in the frame, whether the function assigns it or not.
    assert code.co_nlocals > _CHUNK_SLOTS
    assert call_with_stack_room.__module__ == "wagtail_customers.stack_room"


def test_it_nests():
    assert call_with_stack_room(call_with_stack_room, call_with_stack_room, len, "abc") == 3
