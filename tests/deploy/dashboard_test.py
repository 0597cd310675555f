#!/usr/bin/env python3
"""The Grafana dashboard and the alert rules of deploy/, for real.

Starts a local transaxx cluster (power model, one evaluator, coordinator) on
loopback ports, and a Prometheus server whose configuration is the committed
deploy/prometheus/prometheus.yml with each job's DNS discovery replaced by the
local service's metrics address (scrape and rule evaluation every second,
alert rules from deploy/prometheus/alerts.yml). Runs a small search through
the CLI, lets Prometheus scrape, then asserts that every query of every panel
of deploy/grafana/dashboards/transaxx.json returns series (and each panel at
least one number), and that every alert rule is evaluated without error.

Usage: dashboard_test.py --bin DIR --multipliers_dir DIR --model_dir DIR
                         --prometheus PATH --source_dir DIR
"""
import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

# Grafana's variables in panel queries, as this short test run needs them.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "5m"}
# Scrape job of prometheus.yml -> local service.
SERVICES = {
    "transaxx-power-model": "power-model",
    "transaxx-evaluator": "evaluator",
    "transaxx-coordinator": "coordinator",
}


class Failure(Exception):
    pass


def wait_for(what, check, timeout_s, interval_s=0.2):
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


class Cluster:
    """The processes this test starts; stop() ends each one it started."""

    def __init__(self, root):
        self.root = root
        self.processes = []

    def start_service(self, name, args, timeout_s=300):
        log = os.path.join(self.root, name + ".log")
        with open(log, "wb") as out:
            process = subprocess.Popen(
                args + ["--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0"],
                stdout=out, stderr=subprocess.STDOUT)
        self.processes.append((name, process, log))

        def serving():
            if process.poll() is not None:
                raise Failure(f"{name} exited with {process.returncode}:\n{tail(log)}")
            with open(log, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if '"msg":"serving"' in line:
                        return json.loads(line)
            return None

        announced = wait_for(f"{name} to serve", serving, timeout_s)
        return (f"127.0.0.1:{announced['grpc_port']}",
                f"127.0.0.1:{announced['metrics_port']}")

    def start_prometheus(self, binary, config, port):
        log = os.path.join(self.root, "prometheus.log")
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [binary, f"--config.file={config}",
                 f"--storage.tsdb.path={os.path.join(self.root, 'tsdb')}",
                 f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(("prometheus", process, log))
        return process, log

    def stop(self, check=True):
        """SIGTERM to each process; with check, each must exit 0 within 60 s."""
        for _, process, _ in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process, log in reversed(self.processes):
            try:
                code = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                code = None
            if check and code != 0:
                raise Failure(f"{name} ended with {code} after SIGTERM "
                              f"(None: killed after 60 s):\n{tail(log)}")


def tail(path, lines=30):
    with open(path, encoding="utf-8", errors="replace") as f:
        return "".join(f.readlines()[-lines:])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_prometheus_config(source_dir, metrics, path):
    """prometheus.yml as committed, its discovery replaced by local targets."""
    prometheus_dir = os.path.abspath(os.path.join(source_dir, "deploy", "prometheus"))
    with open(os.path.join(prometheus_dir, "prometheus.yml"), encoding="utf-8") as f:
        config = yaml.safe_load(f)
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [os.path.join(prometheus_dir, rules) for rules in config["rule_files"]]
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    if jobs != set(SERVICES):
        raise Failure(f"prometheus.yml scrapes {sorted(jobs)}, this test starts {sorted(SERVICES)}")
    for job in config["scrape_configs"]:
        del job["dns_sd_configs"]
        job["static_configs"] = [{"targets": [metrics[SERVICES[job["job_name"]]]]}]
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f)


def api(port, path, **params):
    url = f"http://127.0.0.1:{port}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=30) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise Failure(f"{url}: {body}")
    return body["data"]


def dashboard_queries(source_dir):
    """(panel title, query) of every panel, Grafana's variables substituted."""
    with open(os.path.join(source_dir, "deploy", "grafana", "dashboards", "transaxx.json"),
              encoding="utf-8") as f:
        dashboard = json.load(f)
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    queries = []
    for panel in panels:
        if not panel.get("targets"):
            raise Failure(f"panel '{panel['title']}' has no query")
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            if "$" in expr:
                raise Failure(f"panel '{panel['title']}': unknown variable in {expr}")
            queries.append((panel["title"], expr))
    return queries


def search(cli, coordinator):
    """A small MCTS job over imported multipliers (published power figures)."""
    args = [cli, "search", "submit", "--server", coordinator, "--name", "deploy-check",
            "--model", "fashion-vit", "--dataset", "fashion-mnist", "--split", "test",
            "--stratified", "64", "--calibration_subset", "64",
            "--multipliers", "evo:mul8s_1L2J,evo:mul8s_1L2N", "--max_drop", "5",
            "--max_evaluations", "8", "--sensitivity_evaluations", "4", "--seed", "0",
            "--output", "json", "--wait"]
    run = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        raise Failure(f"the search failed ({run.returncode}):\n{run.stderr[-3000:]}")


def keep_calling(cli, coordinator, seconds):
    """Lists the jobs once a second for `seconds` (scrapes come every second)."""
    for _ in range(seconds):
        run = subprocess.run([cli, "search", "list", "--server", coordinator],
                             capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            raise Failure(f"search list failed ({run.returncode}):\n{run.stderr[-3000:]}")
        time.sleep(1)


def check_panels(port, queries):
    panel_numbers = {}
    for title, expr in queries:
        result = api(port, "query", query=expr)["result"]
        if not result:
            raise Failure(f"panel '{title}': no data for {expr}")
        values = [float(series["value"][1]) for series in result]
        panel_numbers.setdefault(title, []).extend(v for v in values if not math.isnan(v))
        print(f"  {title}: {len(result)} series  {expr}")
    for title, numbers in panel_numbers.items():
        if not numbers:
            raise Failure(f"panel '{title}': every series is NaN")


def check_rules(port, source_dir):
    with open(os.path.join(source_dir, "deploy", "prometheus", "alerts.yml"),
              encoding="utf-8") as f:
        committed = {r["alert"] for g in yaml.safe_load(f)["groups"] for r in g["rules"]}

    def evaluated():
        rules = [r for g in api(port, "rules")["groups"] for r in g["rules"]]
        done = all(not r["lastEvaluation"].startswith("0001-") for r in rules)
        return rules if rules and done else None

    rules = wait_for("every alert rule to be evaluated", evaluated, 30)
    if {r["name"] for r in rules} != committed:
        raise Failure(f"Prometheus loaded {sorted(r['name'] for r in rules)}, "
                      f"alerts.yml has {sorted(committed)}")
    for rule in rules:
        if rule["health"] != "ok" or rule.get("lastError"):
            raise Failure(f"rule {rule['name']}: {rule['health']} {rule.get('lastError')}")
        # A misspelt metric evaluates fine and never fires: each must exist.
        for metric in set(re.findall(r"\b(?:transaxx_\w+|up)\b(?=[{\[ )]|$)", rule["query"])):
            if not api(port, "query", query=metric)["result"]:
                raise Failure(f"rule {rule['name']}: no series {metric}")
        print(f"  rule {rule['name']}: ok, {rule['state']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag in ("--bin", "--multipliers_dir", "--model_dir", "--prometheus", "--source_dir"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    started = time.monotonic()
    root = tempfile.mkdtemp(prefix="transaxx-deploy-")
    cluster = Cluster(root)
    try:
        os.mkdir(os.path.join(root, "models"))
        os.symlink(os.path.abspath(args.model_dir), os.path.join(root, "models", "fashion-vit"))
        metrics = {}
        power, metrics["power-model"] = cluster.start_service("power-model", [
            os.path.join(args.bin, "transaxx-power-model"), f"--multipliers_dir={args.multipliers_dir}",
            f"--state_dir={root}/power-model", "--warm_builtins=false"])
        evaluator, metrics["evaluator"] = cluster.start_service("evaluator", [
            os.path.join(args.bin, "transaxx-evaluator"), f"--models_dir={root}/models",
            f"--multipliers_dir={args.multipliers_dir}", f"--state_dir={root}/evaluator",
            "--threads=1", "--max_concurrent=1", "--batch_size=32"])
        coordinator, metrics["coordinator"] = cluster.start_service("coordinator", [
            os.path.join(args.bin, "transaxx-coordinator"), f"--state_dir={root}/coordinator",
            f"--evaluators={evaluator}", f"--power_model={power}"])

        config = os.path.join(root, "prometheus.yml")
        local_prometheus_config(args.source_dir, metrics, config)
        port = free_port()
        prometheus, log = cluster.start_prometheus(args.prometheus, config, port)

        def all_up():
            if prometheus.poll() is not None:
                raise Failure(f"prometheus exited with {prometheus.returncode}:\n{tail(log)}")
            try:
                targets = api(port, "targets")["activeTargets"]
            except OSError:
                return None
            return len(targets) == len(SERVICES) and all(t["health"] == "up" for t in targets)

        wait_for("Prometheus to scrape every service", all_up, 60)
        print(f"cluster and Prometheus up after {time.monotonic() - started:.1f} s")

        search(os.path.join(args.bin, "transaxx"), coordinator)
        print(f"search done after {time.monotonic() - started:.1f} s")
        # A small job can finish between two scrapes, leaving every gRPC
        # histogram flat and its rate-based quantiles NaN; calls spread over
        # a few scrapes give the gRPC panels traffic to show, as a user's
        # `search list` or dashboard refresh would.
        keep_calling(os.path.join(args.bin, "transaxx"), coordinator, seconds=4)
        check_panels(port, dashboard_queries(args.source_dir))
        check_rules(port, args.source_dir)
    except Failure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        for name, _, log in cluster.processes:
            print(f"--- {name} log ---\n{tail(log, 10)}", file=sys.stderr)
        print(f"logs kept in {root}", file=sys.stderr)
        cluster.stop(check=False)
        return 1
    try:
        cluster.stop()
    except Failure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    shutil.rmtree(root)
    print(f"dashboard and alert rules checked in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
