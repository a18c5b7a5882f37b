"""Export every customer as CSV and XLSX: the plugin's worker path, B0 (django-import-export's
``Resource.export()``), Wagtail's ``list_export`` on the A0 viewset, and the floor F. Each export
runs in its own process (``benchmarks.export_worker``) so its memory is measured like a worker's."""

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from . import NotAvailable

ROOT = Path(__file__).resolve().parents[2]


class PluginExport:
    """The plugin's worker path: an ``ExportJob`` for every customer (scope "all", the 12 columns asked for: 14 in
    its file with the currency and the orders without exchange rate)
    run by the Celery task's body in this process: claim, stream the rows through the resource into
    the writer, heartbeats, save the file to storage, mark it done."""

    label = "plugin (export job)"

    def prepare(self, user, file_format):
        try:
            from wagtail_customers.exports.query import CustomerExport, ExportSpec
            from wagtail_customers.exports.tasks import run_export_job
        except ImportError as error:
            raise NotAvailable(str(error)) from None
        from django.utils import timezone

        from wagtail_customers.models import ExportJob

        from ..baselines import EXPORT_COLUMNS

        spec = ExportSpec(file_format=file_format, scope="all", tab="all", columns=list(EXPORT_COLUMNS))
        export = CustomerExport(user, spec)
        # As ``jobs.find_or_create_job`` makes it, without queueing it: this process is the worker.
        job = ExportJob.objects.create(
            user=user,
            file_format=file_format,
            params=spec.to_params(),
            fingerprint=spec.fingerprint(user),
            total_rows=export.count(),
            account_ids=export.scope_account_ids(),
            heartbeat_at=timezone.now(),
        )
        return job.pk, run_export_job

    def run(self, prepared, file_format, path):
        from wagtail_customers.models import ExportJob, JobState

        job_id, task = prepared
        outcome = task(str(job_id))
        job = ExportJob.objects.get(pk=job_id)
        if job.state != JobState.DONE:
            raise RuntimeError(f"export job ended {outcome}/{job.state}: {job.error}")
        return job.rows_written

    def finish(self, prepared, path):
        """After the clock: move the job's file out of storage, for its size."""
        import shutil

        from wagtail_customers.models import ExportJob

        job = ExportJob.objects.get(pk=prepared[0])
        with job.file.open("rb") as source, open(path, "wb") as target:
            shutil.copyfileobj(source, target)
        job.file.delete(save=False)


class ImportExportB0:
    label = "B0 django-import-export"

    def prepare(self, user, file_format):
        return None

    def run(self, prepared, file_format, path):
        from ..baselines import export_b0

        return export_b0(path, file_format)


class WagtailListExport:
    label = "Wagtail list_export (A0)"

    def prepare(self, user, file_format):
        from django.test import Client

        client = Client(raise_request_exception=False)
        client.force_login(user)
        return client

    def run(self, client, file_format, path):
        from ..baselines import A0_INDEX_URL

        response = client.get(f"{A0_INDEX_URL}?export={file_format}")
        if response.status_code != 200:
            raise RuntimeError(f"list_export answered HTTP {response.status_code}")
        with open(path, "wb") as handle:
            if response.streaming:
                for chunk in response.streaming_content:
                    handle.write(chunk)
            else:
                handle.write(response.content)
        from wagtail_customers.models import Customer

        return Customer.objects.count()


class Floor:
    label = "F values_list + csv"

    def prepare(self, user, file_format):
        return None

    def run(self, prepared, file_format, path):
        from ..baselines import export_floor

        return export_floor(path)


EXPORTERS = {"plugin": PluginExport(), "b0": ImportExportB0(), "wagtail": WagtailListExport(), "floor": Floor()}
#: (exporter, format) pairs, in the order they run.
CASES = [
    ("floor", "csv"),
    ("plugin", "csv"),
    ("plugin", "xlsx"),
    ("b0", "csv"),
    ("b0", "xlsx"),
    ("wagtail", "csv"),
    ("wagtail", "xlsx"),
]


def _one_run(env, exporter, file_format, workdir):
    out = Path(workdir) / f"{exporter}.{file_format}"
    result_path = Path(workdir) / f"{exporter}-{file_format}.json"
    command = [sys.executable, "-m", "benchmarks.export_worker", exporter, file_format, str(out), str(result_path)]
    completed = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        if "NotAvailable" in completed.stderr:
            raise NotAvailable(last)
        raise RuntimeError(last)
    out.unlink(missing_ok=True)
    return json.loads(result_path.read_text())


def run(env, repeat, log=print, skip=()):
    results = {}
    with tempfile.TemporaryDirectory(prefix="wcb-export-") as workdir:
        for exporter, file_format in CASES:
            key = f"{exporter}_{file_format}"
            if exporter in skip or key in skip:
                continue
            entry = {"exporter": EXPORTERS[exporter].label, "format": file_format}
            try:
                runs = [_one_run(env, exporter, file_format, workdir) for _ in range(repeat)]
            except NotAvailable as error:
                entry["error"] = f"not available: {error}"
            except RuntimeError as error:
                entry["error"] = str(error)
            else:
                entry.update(
                    runs=runs,
                    rows=runs[0]["rows"],
                    seconds=round(statistics.median(run["seconds"] for run in runs), 3),
                    rss_growth_mb=max(run["rss_growth_mb"] for run in runs),
                    bytes=runs[0]["bytes"],
                )
                entry["rows_per_s"] = round(entry["rows"] / entry["seconds"]) if entry["seconds"] else None
            results[key] = entry
            log(
                f"    export {key:<14} "
                + (
                    f"{entry['seconds']:>8.2f} s {entry['rows_per_s'] or 0:>9} rows/s RSS +{entry['rss_growth_mb']} MB"
                    if "seconds" in entry
                    else entry["error"]
                )
            )
    _ratios(results)
    return results


def _ratios(results):
    for file_format in ("csv", "xlsx"):
        plugin = results.get(f"plugin_{file_format}", {})
        if "seconds" not in plugin:
            continue
        for other in ("b0", "wagtail", "floor"):
            base = results.get(f"{other}_{file_format}", {})
            if "seconds" in base:
                plugin[f"speedup_vs_{other}"] = round(base["seconds"] / plugin["seconds"], 2)
                if plugin["rss_growth_mb"] > 0:
                    plugin[f"leaner_vs_{other}"] = round(base["rss_growth_mb"] / plugin["rss_growth_mb"], 1)
        floor = results.get("floor_csv", {})
        if file_format == "csv" and "seconds" in floor:
            plugin["times_floor"] = round(plugin["seconds"] / floor["seconds"], 2)


def env_for(db_spec):
    from ..datasets import child_env

    return child_env(db_spec)
