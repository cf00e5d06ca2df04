from lzsync.logic.rate_limit import RequestPacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_requests_are_spaced_to_the_quota():
    clock = FakeClock()
    pacer = RequestPacer(per_minute=100, clock=clock, sleep=clock.sleep)

    for _ in range(4):
        pacer.wait()

    assert [round(s, 6) for s in clock.slept] == [0.6, 0.6, 0.6]


def test_time_spent_elsewhere_counts_towards_the_spacing():
    clock = FakeClock()
    pacer = RequestPacer(per_minute=60, clock=clock, sleep=clock.sleep)
    pacer.wait()
    clock.now += 0.75  # processing the page took most of the interval

    pacer.wait()

    assert [round(s, 6) for s in clock.slept] == [0.25]
