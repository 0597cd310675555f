#!/usr/bin/env python3
"""Offline checks of deploy/ with the real tools.

- yamllint (deploy/yamllint.yaml) on every YAML file under deploy/;
- promtool check config (deploy/prometheus/prometheus.yml and its rule
  files) and promtool check rules (deploy/prometheus/alerts.yml);
- each overlay of deploy/k8s/overlays rendered by kubectl's kustomize and
  every object validated against the Kubernetes schemas
  (kubernetes-validate --strict, schemas shipped with it); in each, every
  pod's terminationGracePeriodSeconds exceeds its --drain_delay plus
  --shutdown_timeout, and deploy/prometheus/servicemonitor.yaml selects
  exactly the three services, each with the port it scrapes;
- hadolint (deploy/docker/hadolint.yaml) on deploy/docker/Dockerfile.

Usage: static_check.py --source_dir DIR --kubectl PATH --kubernetes_validate PATH
                       --hadolint PATH --yamllint PATH --promtool PATH
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import yaml

SERVICES = {"transaxx-coordinator", "transaxx-power-model", "transaxx-evaluator"}


class Failure(Exception):
    pass


def run(*args, cwd=None):
    process = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True)
    if process.returncode != 0:
        raise Failure(f"{' '.join(args)} exited with {process.returncode}:\n"
                      f"{process.stdout}{process.stderr}")
    return process.stdout


def seconds(duration):
    value, unit = re.fullmatch(r"(\d+)(ms|s|m)", duration).groups()
    return int(value) * {"ms": 0.001, "s": 1, "m": 60}[unit]


def check_grace_periods(overlay, objects):
    for obj in objects:
        if obj["kind"] not in ("Deployment", "StatefulSet"):
            continue
        pod = obj["spec"]["template"]["spec"]
        for container in pod["containers"]:
            flags = dict(a[2:].split("=", 1) for a in container.get("args", []) if "=" in a)
            needed = seconds(flags.get("drain_delay", "0s")) + seconds(flags["shutdown_timeout"])
            if pod["terminationGracePeriodSeconds"] <= needed:
                raise Failure(f"{overlay}: {obj['metadata']['name']} may be killed before it "
                              f"drains ({pod['terminationGracePeriodSeconds']} s <= {needed} s)")


def check_service_monitor(overlay, objects, monitor):
    selector = monitor["spec"]["selector"]["matchExpressions"]
    selected = [s for s in objects if s["kind"] == "Service" and all(
        s["metadata"]["labels"].get(e["key"]) in e["values"] for e in selector)]
    names = {s["metadata"]["name"] for s in selected}
    if names != SERVICES:
        raise Failure(f"{overlay}: servicemonitor.yaml selects {sorted(names)}")
    for endpoint in monitor["spec"]["endpoints"]:
        for service in selected:
            if endpoint["port"] not in {p["name"] for p in service["spec"]["ports"]}:
                raise Failure(f"{overlay}: {service['metadata']['name']} has no port "
                              f"'{endpoint['port']}'")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag in ("--source_dir", "--kubectl", "--kubernetes_validate", "--hadolint",
                 "--yamllint", "--promtool"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    deploy = os.path.join(os.path.abspath(args.source_dir), "deploy")
    try:
        run(args.yamllint, "--strict", "-c", os.path.join(deploy, "yamllint.yaml"),
            os.path.join(deploy, "k8s"), os.path.join(deploy, "prometheus"),
            os.path.join(deploy, "grafana"), os.path.join(deploy, "docker"))
        print("yamllint: ok")
        prometheus = os.path.join(deploy, "prometheus")
        run(args.promtool, "check", "config", "prometheus.yml", cwd=prometheus)
        run(args.promtool, "check", "rules", "alerts.yml", cwd=prometheus)
        print("promtool check config, check rules: ok")
        with open(os.path.join(prometheus, "servicemonitor.yaml"), encoding="utf-8") as f:
            monitor = yaml.safe_load(f)
        overlays = os.path.join(deploy, "k8s", "overlays")
        for overlay in sorted(os.listdir(overlays)):
            rendered = run(args.kubectl, "kustomize", os.path.join(overlays, overlay))
            objects = list(yaml.safe_load_all(rendered))
            with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
                f.write(rendered)
                f.flush()
                run(args.kubernetes_validate, "--strict", "--quiet", f.name)
            check_grace_periods(overlay, objects)
            check_service_monitor(overlay, objects, monitor)
            print(f"overlay {overlay}: {len(objects)} objects valid")
        run(args.hadolint, "--config", os.path.join(deploy, "docker", "hadolint.yaml"),
            os.path.join(deploy, "docker", "Dockerfile"))
        print("hadolint: ok")
    except Failure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
