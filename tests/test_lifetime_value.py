"""The BG/NBD + Gamma-Gamma model (wagtail_customers/insight/lifetime_value.py) against references of its own:
the likelihood by numerical integration over the mixing distributions, a simulated population with known
parameters, and a calibration/holdout split of the real Online Retail sample."""

import csv
import math
import tracemalloc
from datetime import date, datetime

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from wagtail_customers.insight.lifetime_value import (
    CustomerPrediction,
    NotEnoughData,
    PurchaseSummary,
    bgnbd_log_likelihood,
    expected_purchases,
    fit_account_model,
    gamma_gamma_log_likelihood,
    predict,
    predict_columns,
    probability_alive,
    summarise_purchase_columns,
    summarise_purchases,
)

# The published CDNOW estimates (FHL 2005, weeks): a realistic point to simulate from.
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def integrated_likelihood(r, alpha, a, b, x, t_x, T):
    """The BG/NBD likelihood by integrating the individual one over Gamma(r, alpha) x Beta(a, b) numerically."""

    # Mixing densities written out with math (scipy.stats' per-call overhead would make dblquad take minutes).
    log_gamma_norm = r * math.log(alpha) - math.lgamma(r)
    log_beta_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)

    def individual(lam, p):
        if lam <= 0 or p <= 0 or p >= 1:
            return 0.0
        alive = (1 - p) ** x * lam**x * math.exp(-lam * T)
        dropped = p * (1 - p) ** (x - 1) * lam**x * math.exp(-lam * t_x) if x > 0 else 0.0
        gamma_density = math.exp(log_gamma_norm + (r - 1) * math.log(lam) - alpha * lam)
        beta_density = math.exp(log_beta_norm + (a - 1) * math.log(p) + (b - 1) * math.log(1 - p))
        return (alive + dropped) * gamma_density * beta_density

    value, _ = integrate.dblquad(individual, 0, 1, 0, np.inf, epsabs=1e-13, epsrel=1e-9)
    return value


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 38.9), (1, 2.5, 30.0), (2, 30.4, 38.9), (6, 20.0, 25.0)])
def test_log_likelihood_matches_numerical_integration(x, t_x, T):
    closed_form = bgnbd_log_likelihood(*CDNOW.values(), np.array([x]), np.array([t_x]), np.array([T]))[0]
    assert closed_form == pytest.approx(np.log(integrated_likelihood(*CDNOW.values(), x, t_x, T)), abs=1e-5)


def test_gamma_gamma_likelihood_is_a_density_of_the_mean_spend():
    # For x = 3 purchases the density of their mean must integrate to 1 over m.
    total, _ = integrate.quad(lambda m: np.exp(gamma_gamma_log_likelihood(6.25, 3.74, 15.44, 3, m)), 0, np.inf)
    assert total == pytest.approx(1, abs=1e-6)


def simulate(parameters, ages, horizon, seed):
    """Purchases of a BG/NBD population: repeat purchases x, t_x up to each age T, purchases in the next
    ``horizon`` and whether each customer was still alive at T."""
    rng = np.random.default_rng(seed)
    n = len(ages)
    rate = rng.gamma(parameters["r"], 1 / parameters["alpha"], n)
    dropout = rng.beta(parameters["a"], parameters["b"], n)
    clock, x, t_x, future = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    active, alive_at_T = np.ones(n, bool), np.ones(n, bool)
    first = True
    while active.any():
        # A customer may drop out right after each repeat purchase (not after the first, at time 0).
        drops = active & (rng.random(n) < dropout) & (not first)
        first = False
        alive_at_T &= ~(drops & (clock <= ages))
        active &= ~drops
        clock = np.where(active, clock + rng.exponential(1 / np.maximum(rate, 1e-12)), clock)
        active &= clock <= ages + horizon
        in_calibration = active & (clock <= ages)
        x += in_calibration
        t_x = np.where(in_calibration, clock, t_x)
        future += active & (clock > ages)
    return x, t_x, future, alive_at_T


def test_conditional_expectations_agree_with_a_simulated_population():
    ages = np.random.default_rng(1).uniform(20, 60, 40_000)
    x, t_x, future, alive = simulate(CDNOW, ages, horizon=39.0, seed=2)
    expected = expected_purchases(*CDNOW.values(), x, t_x, ages, 39.0)
    p_alive = probability_alive(*CDNOW.values(), x, t_x, ages)
    # E[future | data] and P(alive | data) are conditional expectations: their sums match the simulated totals.
    assert expected.sum() == pytest.approx(future.sum(), rel=0.04)
    assert p_alive.sum() == pytest.approx(alive.sum(), rel=0.01)
    for k in (0, 1, 3):
        assert expected[x == k].sum() == pytest.approx(future[x == k].sum(), rel=0.08)


def test_fit_recovers_known_parameters():
    ages = np.random.default_rng(3).uniform(20, 60, 6_000)
    x, t_x, _, _ = simulate(CDNOW, ages, horizon=0.0, seed=4)
    rng = np.random.default_rng(5)
    # Gamma-Gamma spends: each customer's mean order value nu ~ Gamma(q, gamma), orders ~ Gamma(p, nu).
    nu = rng.gamma(3.74, 1 / 15.44, len(x))
    spend = np.array([rng.gamma(6.25, 1 / v, int(k)).mean() if k else 0.0 for k, v in zip(x, nu, strict=True)])
    rows = list(zip(x, t_x, ages, spend, strict=True))
    model = fit_account_model(rows)
    assert model.converged
    assert model.customers == 6_000
    assert model.r == pytest.approx(CDNOW["r"], rel=0.15)
    assert model.alpha == pytest.approx(CDNOW["alpha"], rel=0.2)
    assert model.a == pytest.approx(CDNOW["a"], rel=0.5)
    assert model.b == pytest.approx(CDNOW["b"], rel=0.6)
    assert model.p == pytest.approx(6.25, rel=0.25)
    assert model.q == pytest.approx(3.74, rel=0.3)
    # The maximum likelihood is at least the likelihood at the true parameters.
    assert model.log_likelihood >= bgnbd_log_likelihood(*CDNOW.values(), x, t_x, ages).sum() - 1e-6
    # Predictions from the fitted and the true parameters agree in total.
    fitted_total = sum(prediction.expected_orders for prediction in predict(model, rows, horizon_days=39))
    assert fitted_total == pytest.approx(expected_purchases(*CDNOW.values(), x, t_x, ages, 39.0).sum(), rel=0.05)


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [PurchaseSummary(0, 0.0, 100.0)],
        [PurchaseSummary(0, 0.0, 50.0 + i) for i in range(40)],
        [PurchaseSummary(0, 0.0, 0.0) for _ in range(40)],
        [PurchaseSummary(3, 20.0, 30.0, 12.0)] * 3,
    ],
    ids=["nobody", "one customer", "no repeat buyers", "all on the last day", "three customers"],
)
def test_degenerate_histories_are_not_enough_data(rows):
    with pytest.raises(NotEnoughData):
        fit_account_model(rows)


def test_summarise_purchases_counts_days_after_the_first():
    purchases = [("a", date(2024, 1, 1), 10), ("a", date(2024, 1, 1), 5), ("a", date(2024, 1, 11), 20)]
    purchases += [("a", date(2024, 1, 21), 40), ("b", date(2024, 1, 31), 7), ("a", date(2024, 3, 1), 99)]
    assert summarise_purchases(purchases, date(2024, 1, 31)) == {
        "a": PurchaseSummary(frequency=2, recency=20.0, age=30.0, average_repeat_value=30.0),
        "b": PurchaseSummary(frequency=0, recency=0.0, age=0.0, average_repeat_value=0.0),
    }


def online_retail_purchases(realdata):
    """(customer, day, amount) per invoice line of the random Online Retail sample, cancellations left out."""
    path = realdata / "online_retail" / "online_retail_random2709rows.csv"
    with path.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            if row["CustomerID"] in ("", "NA") or row["InvoiceNo"].startswith("C"):
                continue
            day = datetime.strptime(row["InvoiceDate"], "%m/%d/%Y %H:%M").date()
            yield row["CustomerID"], day, float(row["Quantity"]) * float(row["UnitPrice"])


def test_online_retail_calibration_and_holdout(realdata):
    purchases = list(online_retail_purchases(realdata))
    cut_off, end = date(2011, 6, 30), max(day for _, day, _ in purchases)
    horizon = (end - cut_off).days
    calibration = summarise_purchases(purchases, cut_off)
    holdout_days, holdout_spend = {}, 0.0
    for customer, day, amount in purchases:
        if day > cut_off and customer in calibration:
            holdout_days.setdefault(customer, set()).add(day)
            holdout_spend += amount
    customers = sorted(calibration)
    rows = [calibration[customer] for customer in customers]
    actual = np.array([len(holdout_days.get(customer, ())) for customer in customers])

    model = fit_account_model(rows)
    predicted = np.array([prediction.expected_orders for prediction in predict(model, rows, horizon_days=horizon)])
    spend = np.array([prediction.expected_spend for prediction in predict(model, rows, horizon_days=horizon)])
    x = np.array([row.frequency for row in rows])
    ages = np.array([row.age for row in rows])
    # Naive baseline: each customer keeps their calibration rate of repeat purchase days.
    naive = np.where(ages > 0, x / np.maximum(ages, 1), 0.0) * horizon
    model_error, naive_error = np.abs(predicted - actual).mean(), np.abs(naive - actual).mean()
    model_rmse, naive_rmse = np.sqrt(((predicted - actual) ** 2).mean()), np.sqrt(((naive - actual) ** 2).mean())
    print(
        f"\nOnline Retail random sample: {len(customers)} customers ({model.repeat_buyers} repeat buyers) "
        f"calibrated to {cut_off}, holdout {horizon} days to {end}; fit converged={model.converged}, "
        f"r={model.r:.3f} alpha={model.alpha:.1f} a={model.a:.2g} b={model.b:.2g} "
        f"p={model.p:.2f} q={model.q:.2f} gamma={model.gamma:.1f}\n"
        f"holdout purchase days: actual {actual.sum()}, predicted {predicted.sum():.1f}, naive {naive.sum():.1f}; "
        f"MAE per customer: model {model_error:.3f}, naive {naive_error:.3f}, all-zero {actual.mean():.3f}; "
        f"RMSE: model {model_rmse:.3f}, naive {naive_rmse:.3f}, everyone the mean {actual.std():.3f}; "
        f"spend: actual {holdout_spend:.0f}, predicted {spend.sum():.0f}"
    )
    assert np.isfinite(predicted).all() and (predicted >= 0).all() and np.isfinite(spend).all()
    assert actual.sum() / 2 <= predicted.sum() <= actual.sum() * 2
    # On this sample the model beats the naive rate on RMSE, not on MAE (see docs/concepts/predicted-value.md).
    assert model_rmse < naive_rmse


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 38.9), (2, 30.4, 38.9), (50, 300.0, 360.0), (3000, 364.0, 365.0)])
def test_expected_purchases_match_an_integral_over_the_dropout_probability(x, t_x, T):
    """Another route to eq. 10: if active, lambda ~ Gamma(r+x, alpha+T) and p ~ Beta(a, b+x), and an active
    customer's expected purchases in t are (1 - E[exp(-lambda p t)]) / p; integrate that over p numerically.
    The paper's own 2F1 form gives NaN at x = 3000 in scipy; the module's transformed one must not."""
    r, alpha, a, b = CDNOW.values()
    t = 365.0

    def active_purchases(p):
        return -np.expm1((r + x) * np.log((alpha + T) / (alpha + T + p * t))) / p * stats.beta.pdf(p, a, b + x)

    upper = min(1.0, 60 / (b + x))  # the posterior of p lies within a few (a)/(b+x) of 0
    integral, _ = integrate.quad(active_purchases, 0, upper, limit=200, epsabs=1e-12, epsrel=1e-10)
    alive = probability_alive(r, alpha, a, b, np.array([x]), np.array([t_x]), np.array([T]))[0]
    closed_form = expected_purchases(r, alpha, a, b, np.array([x]), np.array([t_x]), np.array([T]), t)[0]
    assert closed_form == pytest.approx(alive * integral, rel=1e-6)


def reference_bgnbd_log_likelihood(parameters, x, t_x, T):
    """FHL (2005) eq. 6 as printed, written here apart from the module: ln L = ln A1 + ln(A2 + A3 [x>0]), with
    A1 = Gamma(r+x) alpha^r / Gamma(r), A2 = B(a, b+x) / B(a, b) (alpha+T)^-(r+x), and
    A3 = B(a+1, b+x-1) / B(a, b) (alpha+t_x)^-(r+x)."""
    r, alpha, a, b = parameters
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
    a3 = np.where(
        x > 0,
        special.betaln(a + 1, b + np.maximum(x, 1) - 1) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1 + np.logaddexp(a2, a3)


def reference_gamma_gamma_log_likelihood(parameters, x, m):
    """Fader & Hardie's Gamma-Gamma spend model ("The Gamma-Gamma Model of Monetary Value", 2013, eq. 1-3) for
    the repeat buyers: the density of their mean spend m over x transactions."""
    p, q, gamma = parameters
    return (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m * x)
    )


def reference_fit(log_likelihood, start, *data):
    """Maximum likelihood by Nelder-Mead over the log parameters, from another start than the module's."""
    result = optimize.minimize(
        lambda log_parameters: -log_likelihood(np.exp(log_parameters), *data).sum(),
        np.log(start),
        method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-7, "maxiter": 20_000, "maxfev": 20_000},
    )
    assert result.success, result.message
    return np.exp(result.x), -result.fun


def test_the_fit_equals_a_reference_fit_on_the_online_retail_data(realdata):
    """The module's fit and a reference fit (the published likelihoods written out here, another optimiser, another
    start) on the same Online Retail histories reach the same maximum and parameters, within a tolerance."""
    purchases = list(online_retail_purchases(realdata))
    summaries = summarise_purchases(purchases, max(day for _, day, _ in purchases))
    rows = list(summaries.values())
    model = fit_account_model(rows)
    x = np.array([row.frequency for row in rows], dtype=float)
    t_x = np.array([row.recency for row in rows])
    T = np.array([row.age for row in rows])
    (r, alpha, a, b), reference_ll = reference_fit(reference_bgnbd_log_likelihood, (1.0, 50.0, 1.0, 1.0), x, t_x, T)
    assert model.log_likelihood == pytest.approx(reference_ll, abs=1e-3 * len(rows))
    assert (model.r, model.alpha) == (pytest.approx(r, rel=0.02), pytest.approx(alpha, rel=0.02))
    # a and b are loosely identified on a small sample (a flat ridge): their ratio, the mean dropout, is not.
    assert model.a / (model.a + model.b) == pytest.approx(a / (a + b), rel=0.05)
    repeat = x > 0
    m = np.array([row.average_repeat_value for row in rows])[repeat]
    (p, q, gamma), _ = reference_fit(reference_gamma_gamma_log_likelihood, (2.0, 2.0, 20.0), x[repeat], m)
    # The expected mean spend of a new buyer, p gamma / (q - 1), is what the predictions use; it is well identified.
    assert model.p * model.gamma / (model.q - 1) == pytest.approx(p * gamma / (q - 1), rel=0.02)


def made_up_purchases(customers, seed=1):
    """(customer id, day, amount) for customers 1..n in id order: 1 to 9 orders each over four years, days in no
    order within a customer, some on the same day, some after the end of the observation."""
    rng = np.random.default_rng(seed)
    end = date(2026, 12, 1).toordinal()
    for customer in range(1, customers + 1):
        for offset in rng.integers(-30, 1500, rng.integers(1, 10)).tolist():
            yield customer, date.fromordinal(end - offset), float(rng.uniform(0, 100))


def test_purchase_columns_are_the_summaries_of_summarise_purchases():
    observed_until = date(2026, 12, 1)
    summaries = summarise_purchases(made_up_purchases(3_000), observed_until)
    columns = summarise_purchase_columns(made_up_purchases(3_000), observed_until)
    assert list(columns.customers) == sorted(summaries)
    assert [PurchaseSummary(int(x), *rest) for x, *rest in zip(*columns.arrays(), strict=True)] == [
        summaries[customer] for customer in sorted(summaries)
    ]
    # Only rows after the end: no summary, as summarise_purchases leaves that customer out.
    assert len(summarise_purchase_columns([(1, date(2027, 1, 1), 5)], observed_until)) == 0
    with pytest.raises(ValueError, match="ordered by customer"):
        summarise_purchase_columns([(2, observed_until, 1), (1, observed_until, 1)], observed_until)


def test_purchase_columns_take_a_few_bytes_per_customer_however_many_customers():
    """The summary keeps one customer's days at a time and 5 numbers per customer (40 bytes), where a dict of days
    per customer and a named tuple each took some 900 bytes per customer (docs/performance.md, Buyer insight
    refresh memory)."""
    peaks = {}
    for customers in (5_000, 20_000):
        tracemalloc.start()
        columns = summarise_purchase_columns(made_up_purchases(customers), date(2026, 12, 1))
        peaks[customers] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert customers * 0.99 < len(columns) <= customers
        assert all(isinstance(column, np.ndarray) for column in (columns.customers, *columns.arrays()))
    assert (peaks[20_000] - peaks[5_000]) / 15_000 < 80


def test_the_fit_and_predictions_from_columns_are_those_from_rows(realdata):
    purchases = sorted(
        ((int(customer), day, amount) for customer, day, amount in online_retail_purchases(realdata)),
        key=lambda purchase: purchase[0],
    )
    end = max(day for _, day, _ in purchases)
    summaries = summarise_purchases(purchases, end)
    rows = [summaries[customer] for customer in sorted(summaries)]
    columns = summarise_purchase_columns(purchases, end)
    model = fit_account_model(columns)
    assert model == fit_account_model(rows)
    predicted = predict_columns(model, columns, horizon_days=365)
    assert [CustomerPrediction(*values) for values in zip(*predicted, strict=True)] == predict(model, rows, 365)
