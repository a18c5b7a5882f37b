"""Predicted value per customer: BG/NBD for the number of future orders, Gamma-Gamma for their value.

Implemented from the published likelihoods with numpy and scipy, because the libraries made for it do not run
on our versions (``lifetimes`` is unmaintained since 2020; its fork ``btyd`` is an alpha pinned to PyMC 4 /
Aesara, which predate numpy 2 and Python 3.13). See docs/concepts/predicted-value.md.

- BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science 24(2), and
  Fader & Hardie's notes "Computing P(alive) using the BG/NBD model" (2008).
- Gamma-Gamma: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-value Curves", JMR 42(4), and Fader &
  Hardie's note "The Gamma-Gamma Model of Monetary Value" (2013).

Time is in days throughout. Per customer: ``frequency`` x = repeat purchases (purchase days after the first),
``recency`` t_x = days from the first purchase to the last, ``age`` T = days from the first purchase to the end
of the observation, ``average_repeat_value`` = mean value of the repeat purchases (0 when x = 0).
"""

from array import array
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from django.utils.translation import gettext_noop
from scipy.optimize import minimize
from scipy.special import betaln, expit, gammaln, hyp2f1

# Log-parameters are kept within these bounds while fitting, so a degenerate optimum stays finite.
LOG_PARAMETER_BOUND = 20.0


class NotEnoughData(ValueError):
    """The purchase histories cannot support a fit (too few customers or repeat buyers, or a degenerate fit).

    ``reason``: the message, untranslated (marked for translation here, translated where it is shown:
    ``LifetimeValueFit.reason_text``); ``values``: the numbers its ``%(name)s`` placeholders take."""

    def __init__(self, reason, **values):
        self.reason, self.values = reason, values
        super().__init__(reason % values)


TOO_FEW_BUYERS = gettext_noop(
    "%(customers)s customers and %(repeat_buyers)s repeat buyers: at least %(min_customers)s and "
    "%(min_repeat_buyers)s are needed."
)
NO_OBSERVATION = gettext_noop("Every customer was first seen at the end of the observation.")
TOO_FEW_SPENDERS = gettext_noop("%(spenders)s repeat buyers with a positive spend: too few.")
NOT_FINITE = gettext_noop("The fit did not reach finite parameters.")


class PurchaseSummary(NamedTuple):
    frequency: int
    recency: float
    age: float
    average_repeat_value: float = 0.0


class CustomerPrediction(NamedTuple):
    expected_orders: float
    expected_order_value: float
    expected_spend: float
    probability_alive: float


@dataclass(frozen=True)
class LifetimeValueModel:
    """Fitted parameters (time in days) and what the fit was made from."""

    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    gamma: float
    customers: int
    repeat_buyers: int
    log_likelihood: float
    spend_log_likelihood: float
    converged: bool


def summarise_purchases(purchases, observed_until):
    """``{customer: PurchaseSummary}`` from ``(customer, date, amount)`` rows up to ``observed_until`` (a date).

    Purchases on the same calendar day count as one (as in the papers' and lifetimes' daily summaries); their
    amounts are added up. Rows after ``observed_until`` are left out. Holds every customer's days at once: for
    a whole account use ``summarise_purchase_columns``, which gives the same figures in a few bytes per customer.
    """
    days = {}
    for customer, day, amount in purchases:
        if day > observed_until:
            continue
        per_day = days.setdefault(customer, {})
        per_day[day] = per_day.get(day, 0.0) + float(amount)
    return {customer: _summary(per_day, observed_until) for customer, per_day in days.items()}


def _summary(per_day, observed_until):
    """One customer's ``PurchaseSummary`` from their ``{day: amount}``."""
    ordered = sorted(per_day)
    first, last = ordered[0], ordered[-1]
    repeat_values = [per_day[day] for day in ordered[1:]]
    return PurchaseSummary(
        frequency=len(repeat_values),
        recency=float((last - first).days),
        age=float((observed_until - first).days),
        average_repeat_value=sum(repeat_values) / len(repeat_values) if repeat_values else 0.0,
    )


class PurchaseColumns:
    """Every customer's ``PurchaseSummary`` as columns: ``customers`` (int64 ids, ascending) and ``frequency``,
    ``recency``, ``age``, ``average_repeat_value`` (float64), one entry per customer, 40 bytes each."""

    def __init__(self, customers, frequency, recency, age, average_repeat_value):
        self.customers = customers
        self.frequency, self.recency, self.age = frequency, recency, age
        self.average_repeat_value = average_repeat_value

    def __len__(self):
        return len(self.customers)

    def arrays(self):
        """x, t_x, T, m (``_as_arrays``' columns)."""
        return self.frequency, self.recency, self.age, self.average_repeat_value


def summarise_purchase_columns(purchases, observed_until):
    """``summarise_purchases`` for rows grouped by customer, customer ids (integers) ascending, as ``PurchaseColumns``.

    Streams: only the current customer's days are held; each finished customer's figures go to compact columns
    (the same numbers ``summarise_purchases`` gives them). A customer id lower than the one before is refused
    (``ValueError``): the rows are not grouped, and a customer would be counted twice.
    """
    ids, columns = array("q"), tuple(array("d") for _ in range(4))

    def finish(customer, per_day):
        ids.append(customer)
        for column, value in zip(columns, _summary(per_day, observed_until), strict=True):
            column.append(value)

    current, per_day = None, {}
    for customer, day, amount in purchases:
        if customer != current:
            if current is not None and customer < current:
                raise ValueError("The purchases must be ordered by customer id.")
            if per_day:
                finish(current, per_day)
            current, per_day = customer, {}
        if day > observed_until:
            continue
        per_day[day] = per_day.get(day, 0.0) + float(amount)
    if per_day:
        finish(current, per_day)
    # Views of the arrays' buffers (no copy); each keeps its array alive.
    return PurchaseColumns(
        np.frombuffer(ids, dtype=np.int64) if ids else np.zeros(0, dtype=np.int64),
        *(np.frombuffer(column, dtype=float) if column else np.zeros(0) for column in columns),
    )


def _as_arrays(rows):
    """Columns x, t_x, T, m from ``PurchaseColumns`` (as they are) or rows of (frequency, recency, age[,
    average_repeat_value])."""
    if isinstance(rows, PurchaseColumns):
        return rows.arrays()
    data = np.asarray([(*row, 0.0)[:4] for row in rows], dtype=float).reshape(-1, 4)
    return data[:, 0], data[:, 1], data[:, 2], data[:, 3]


def bgnbd_log_likelihood(r, alpha, a, b, x, t_x, T):
    """Each customer's BG/NBD log-likelihood (FHL 2005, eq. 6), summed in log space with logaddexp."""
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    still_alive = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Only defined for x > 0 (the customer may have dropped out right after the last purchase).
        dropped = np.where(x > 0, betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf)
    return common + np.logaddexp(still_alive, dropped)


def gamma_gamma_log_likelihood(p, q, gamma, x, m):
    """Each repeat buyer's log-density of their mean spend m over x purchases (Fader & Hardie 2013, eq. 3)."""
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + gamma)
    )


def probability_alive(r, alpha, a, b, x, t_x, T):
    """P(alive | x, t_x, T) (Fader & Hardie 2008, eq. 1), through a log-odds so large x cannot overflow."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds_dropped = (
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
    return np.where(x > 0, expit(-log_odds_dropped), 1.0)


def expected_purchases(r, alpha, a, b, x, t_x, T, t):
    """E[purchases in (T, T + t] | x, t_x, T] (FHL 2005, eq. 10).

    The paper's 2F1(r+x, b+x; a+b+x-1; z) grows without bound with x and loses precision in scipy's hyp2f1;
    Euler's transformation turns ((1-z)^(r+x)) 2F1(...) into (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose
    numerator parameters do not grow with x, so its series is short and well conditioned (z < 1 always).
    a = 1 exactly would be 0/0: a is kept 1e-7 away from 1 (the result moves by far less than the model error).
    """
    if abs(a - 1) < 1e-7:
        a = 1 + np.copysign(1e-7, a - 1)
    z = t / (alpha + T + t)
    tail = np.power(1 - z, a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    unconditional_alive = (a + b + x - 1) / (a - 1) * (1 - tail)
    return unconditional_alive * probability_alive(r, alpha, a, b, x, t_x, T)


def expected_order_value(p, q, gamma, x, m):
    """E[average order value | x, m] (Fader & Hardie 2013, eq. 5); the population mean p*gamma/(q-1) at x = 0."""
    with np.errstate(invalid="ignore"):
        observed = np.where(x > 0, m, 0.0)
    return p * (gamma + x * observed) / (p * x + q - 1)


#: Where the BG/NBD fit starts from (log r, log alpha, log a, log b, time scaled): its likelihood has local optima
#: on the ridge towards a, b -> 0 (the dropout concentrated at 0 and 1); on the Online Retail sample the first start
#: alone stopped 1.7 log-likelihood points below the best, with P(alive) off by up to 0.44 for some buyers.
BGNBD_STARTS = ((0.0, 0.0, 0.0, 0.0), (0.0, 0.0, -2.0, -2.0), (0.0, 0.0, -2.0, 0.0), (-1.0, 0.0, -1.0, 1.0))


def _best_minimum(negative_log_likelihood, starts):
    """The lowest of the minima reached from each start."""
    results = [_minimise(negative_log_likelihood, np.array(start, dtype=float)) for start in starts]
    return min(results, key=lambda result: result.fun)


def _minimise(negative_log_likelihood, start):
    bounds = [(-LOG_PARAMETER_BOUND, LOG_PARAMETER_BOUND)] * len(start)
    result = minimize(negative_log_likelihood, start, method="L-BFGS-B", bounds=bounds)
    if not result.success:
        # L-BFGS-B stops early on flat ridges; Nelder-Mead from its point usually settles it.
        polished = minimize(
            negative_log_likelihood,
            result.x,
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-10},
        )
        if polished.fun <= result.fun:
            result = polished
    return result


def fit_account_model(rows, penalizer_coef=0.0, min_customers=20, min_repeat_buyers=5):
    """Fit BG/NBD and Gamma-Gamma on one seller account's ``PurchaseColumns`` or ``PurchaseSummary`` rows (or
    4-tuples), in days.

    ``penalizer_coef`` adds penalizer_coef * sum(parameter²) to the mean negative log-likelihood (as lifetimes'
    option of that name; time rescaled so the oldest customer's age is 10, as lifetimes does). Raises
    NotEnoughData when the histories cannot support a fit.
    """
    x, t_x, T, m = _as_arrays(rows)
    customers, repeat_buyers = len(x), int(np.count_nonzero(x > 0))
    if (
        customers < min_customers
        or repeat_buyers < min_repeat_buyers
        or not all(np.isfinite(c).all() for c in (x, t_x, T, m))
    ):
        raise NotEnoughData(
            TOO_FEW_BUYERS,
            customers=customers,
            repeat_buyers=repeat_buyers,
            min_customers=min_customers,
            min_repeat_buyers=min_repeat_buyers,
        )
    if np.any((x < 0) | (t_x < 0) | (T < t_x)):
        raise ValueError("Each row needs frequency >= 0 and 0 <= recency <= age.")
    if T.max() <= 0:
        raise NotEnoughData(NO_OBSERVATION)
    scale = 10.0 / T.max()
    # Customers with the same history (most one-time buyers of a day share one) count once with their number:
    # the likelihood is the same sum, over a tenth of the rows or fewer on a real account.
    histories, counts = np.unique(np.stack([x, t_x, T], axis=1), axis=0, return_counts=True)
    ux, ut_x, uT = histories[:, 0], histories[:, 1] * scale, histories[:, 2] * scale
    weights = counts / counts.sum()

    def bgnbd_objective(log_parameters):
        r, alpha, a, b = np.exp(log_parameters)
        total = (bgnbd_log_likelihood(r, alpha, a, b, ux, ut_x, uT) * weights).sum()
        value = -total + penalizer_coef * np.sum(np.exp(log_parameters) ** 2)
        return value if np.isfinite(value) else 1e100

    bgnbd = _best_minimum(bgnbd_objective, BGNBD_STARTS)
    r, alpha_scaled, a, b = np.exp(bgnbd.x)

    spenders = (x > 0) & (m > 0)
    if np.count_nonzero(spenders) < min_repeat_buyers:
        raise NotEnoughData(TOO_FEW_SPENDERS, spenders=int(np.count_nonzero(spenders)))
    x_spend, m_spend = x[spenders], m[spenders]
    spend_scale = 1.0 / m_spend.mean()

    def spend_objective(log_parameters):
        # q = 1 + e^θ: with q <= 1 the mean order value would be infinite, so no prediction could use it.
        p, q, gamma = np.exp(log_parameters[0]), 1 + np.exp(log_parameters[1]), np.exp(log_parameters[2])
        total = gamma_gamma_log_likelihood(p, q, gamma, x_spend, m_spend * spend_scale).mean()
        value = -total + penalizer_coef * (p**2 + q**2 + gamma**2)
        return value if np.isfinite(value) else 1e100

    spend = _minimise(spend_objective, np.zeros(3))
    p, q, gamma_scaled = np.exp(spend.x[0]), 1 + np.exp(spend.x[1]), np.exp(spend.x[2])
    alpha, gamma = alpha_scaled / scale, gamma_scaled / spend_scale
    log_likelihood = float(bgnbd_log_likelihood(r, alpha, a, b, x, t_x, T).sum())
    spend_log_likelihood = float(gamma_gamma_log_likelihood(p, q, gamma, x_spend, m_spend).sum())
    parameters = (r, alpha, a, b, p, q, gamma, log_likelihood, spend_log_likelihood)
    if not np.all(np.isfinite(parameters)):
        raise NotEnoughData(NOT_FINITE)
    return LifetimeValueModel(
        *(float(value) for value in parameters[:7]),
        customers=customers,
        repeat_buyers=repeat_buyers,
        log_likelihood=log_likelihood,
        spend_log_likelihood=spend_log_likelihood,
        converged=bool(bgnbd.success and spend.success),
    )


class PredictionColumns(NamedTuple):
    """``CustomerPrediction``'s fields as float64 arrays, one entry per customer."""

    expected_orders: np.ndarray
    expected_order_value: np.ndarray
    expected_spend: np.ndarray
    probability_alive: np.ndarray


def predict_columns(model, rows, horizon_days=365):
    """``predict``'s figures as ``PredictionColumns`` (same order as ``rows``: ``PurchaseColumns`` or rows)."""
    x, t_x, T, m = _as_arrays(rows)
    if len(x) == 0:
        return PredictionColumns(*(np.zeros(0) for _ in PredictionColumns._fields))
    orders = expected_purchases(model.r, model.alpha, model.a, model.b, x, t_x, T, float(horizon_days))
    alive = probability_alive(model.r, model.alpha, model.a, model.b, x, t_x, T)
    order_value = expected_order_value(model.p, model.q, model.gamma, x, m)
    orders, alive, order_value = (np.nan_to_num(np.clip(values, 0, None)) for values in (orders, alive, order_value))
    return PredictionColumns(orders, order_value, orders * order_value, alive)


def predict(model, rows, horizon_days=365):
    """A ``CustomerPrediction`` per row (same order): orders, order value, spend in the horizon, P(alive)."""
    columns = predict_columns(model, rows, horizon_days)
    return [CustomerPrediction(*values) for values in zip(*(column.tolist() for column in columns), strict=True)]
