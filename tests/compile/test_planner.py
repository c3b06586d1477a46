"""Memory planner: live tensors never share bytes (except allowed in-place/overlap pairs), the
lower bound is the largest live sum, and placements are as tight as the obvious optimum."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tinyflow.compile.planner import Buffer, check_plan, lower_bound, plan_memory


def chain(sizes):
    """Tensor k is produced by op k-1 and read by op k (tensor 0 is the model input)."""
    n = len(sizes)
    return dict(enumerate(sizes)), {k: (max(k - 1, 0), min(k, n - 2)) for k in range(n)}


def test_chain_ping_pongs_between_two_buffers():
    sizes, life = chain([100, 200, 100, 200, 100])
    plan = plan_memory(sizes, life)
    check_plan(plan)
    assert plan.lower_bound == 300
    assert plan.arena_bytes == 300


def test_tensors_alive_together_never_overlap():
    sizes = {0: 64, 1: 64, 2: 64}
    life = {0: (0, 2), 1: (0, 2), 2: (1, 2)}
    plan = plan_memory(sizes, life)
    spans = sorted((plan.offsets[t], plan.offsets[t] + sizes[t]) for t in sizes)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert plan.arena_bytes == plan.lower_bound == 192


def test_alias_shares_memory_and_lifetime():
    sizes, life = {0: 40, 1: 40, 2: 40, 3: 8}, {0: (0, 0), 1: (0, 1), 2: (1, 2), 3: (2, 2)}
    plan = plan_memory(sizes, life, aliases=[(1, 2)])
    assert plan.offsets[1] == plan.offsets[2]
    assert plan.offsets[0] != plan.offsets[1]  # 0 is alive at step 0 with the 1/2 group
    check_plan(plan)


def test_inplace_only_when_the_input_dies_at_that_op():
    sizes = {0: 32, 1: 32, 2: 32}
    dies = plan_memory(sizes, {0: (0, 0), 1: (0, 1), 2: (1, 1)}, inplace=[(0, 1)])
    assert dies.offsets[0] == dies.offsets[1] and dies.arena_bytes == 64
    lives = plan_memory(sizes, {0: (0, 1), 1: (0, 1), 2: (1, 1)}, inplace=[(0, 1)])
    assert lives.offsets[0] != lives.offsets[1]
    check_plan(lives)


def test_overlap_lets_output_start_inside_its_dying_input():
    sizes, life = {0: 1000, 1: 1000}, {0: (0, 0), 1: (0, 0)}
    plan = plan_memory(sizes, life, overlaps=[(0, 1, -100)])
    assert plan.offsets[1] - plan.offsets[0] <= -100
    assert plan.arena_bytes == 1100
    check_plan(plan)


def test_lower_bound_is_largest_live_sum():
    bufs = [Buffer([0], 10, 0, 1), Buffer([1], 20, 1, 2), Buffer([2], 5, 2, 3), Buffer([3], 7, 0, 3)]
    assert lower_bound(bufs) == 10 + 20 + 7


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 500), st.integers(0, 12), st.integers(0, 6)), min_size=1, max_size=25),
    st.lists(st.tuples(st.integers(0, 24), st.integers(0, 24), st.integers(-600, 50)), max_size=6),
)
def test_random_plans_are_valid_and_at_least_the_bound(tensors, overlaps):
    sizes = {k: s for k, (s, _, _) in enumerate(tensors)}
    life = {k: (a, a + d) for k, (_, a, d) in enumerate(tensors)}
    overlaps = [(a, b, d) for a, b, d in overlaps if a in sizes and b in sizes and a != b]
    plan = plan_memory(sizes, life, overlaps=overlaps, search=20)
    check_plan(plan)
    assert plan.arena_bytes >= max(sizes.values())
    if not overlaps:
        assert plan.arena_bytes >= plan.lower_bound
