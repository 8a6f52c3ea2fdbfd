#!/usr/bin/env python3
"""Regenerates policies/checkov-severity.json, the severities infra-agent gives checkov's Terraform checks.

checkov reports no severity offline (severities come from the Prisma Cloud platform with an API key), so we keep our
own table: the check list of the pinned checkov (`checkov --list --framework terraform`) classified by what each check
protects, with the same classes our rules use (POLICIES.md). CRITICAL = admin ports/all ports from the internet, public
object storage/datasets, wildcard or admin permissions, literal credentials. HIGH = databases/clusters/endpoints
reachable from the internet, public access not blocked, data unencrypted at rest or in transit, IMDSv1, privilege
escalation. MEDIUM = customer-managed keys, TLS versions, network hygiene. LOW = logging, tags, backups, the rest.
A check listed in OVERRIDES keeps the severity written there. Review the diff after a checkov upgrade.

usage: scripts/checkov-severity.py [path/to/checkov] > policies/checkov-severity.json
"""
import json
import re
import subprocess
import sys

CLASSES = [
    # (severity, regex on the check's title) — first match wins
    ("HIGH", r"block.public.(acl|polic)|public access block|block public access|restrict.public.buckets|ignore.public.acl|public access prevention"),
    ("MEDIUM", r"\begress\b|to port 80\b|port 80 "),
    ("LOW", r"has a description|have descriptions?|description"),
    ("HIGH", r"open to the world"),
    ("MEDIUM", r"private endpoint|disk encryption set"),
    ("MEDIUM", r"(encrypted|encryption) (with|by|using) kms|kms by default"),
    ("CRITICAL", r"(port 22\b|\bssh\b|port 3389|\brdp\b).*(0\.0\.0\.0|internet|any ?where|public|unrestricted)"),
    ("CRITICAL", r"(0\.0\.0\.0|internet|unrestricted|public).*(port 22\b|\bssh\b|port 3389|\brdp\b)"),
    ("CRITICAL", r"from 0\.0\.0\.0:0 to port|all ports|0-65535|unrestricted (ingress|inbound)|allow all (ingress|inbound|traffic)"),
    ("CRITICAL", r"hard.?coded|plain ?text (secret|password|credential)|secrets? (exist|in )|private key in provider|access keys? .*(hard|provider)"),
    ("CRITICAL", r"(bucket|container|blob|storage account|object storage|oss|dataset|bigquery|s3).*(public|anonymous|allusers|allauthenticatedusers|world)"),
    ("CRITICAL", r"(public|anonymous|allusers|allauthenticatedusers).*(bucket|container|blob|object storage|oss bucket|dataset|bigquery)"),
    ("CRITICAL", r"full administrative|admin(istrative)? privileges|\"?\*:\*\"?|wildcard.*(action|permission)|(action|actions) .?\*|star action|primitive role|basic roles|owner role|role.*subscription owner|custom subscription owner"),
    ("HIGH", r"privilege escalation|data exfiltration|credentials exposure|permissions management|write access without constraint|resource \"?\*\"?|service account.*(admin|token creator|user)|default service account"),
    ("MEDIUM", r"customer.?managed|\bcmk\b|\bcmek\b|\bcsek\b|customer master key|customer supplied|tls version|latest tls|min(imum)?_?tls|cipher|key rotation"),
    ("HIGH", r"publicly accessible|public network access|not public|is not public|public ip|public endpoint|exposed|internet|0\.0\.0\.0|authorized networks|authorized ip|private (cluster|endpoint)|master authorized|public access|accessible to public|overly permissive|does not restrict access|anonymous"),
    ("HIGH", r"encrypt|https|\bssl\b|\btls\b|in.?transit|transparent data"),
    ("HIGH", r"metadata service version 1|imdsv2|imds|legacy metadata"),
    ("MEDIUM", r"security group|firewall|security list|network security|network access rule|ingress|egress|mfa|password policy|kms key.*enabled|deletion protection"),
    ("LOW", r"."),
]

OVERRIDES = {
    # Port 80 from the internet is no admin port (our SEC-NET-003 allows 80/443).
    "CKV_AWS_260": "MEDIUM",
    # "security group attached to a resource" / default SG rules: hygiene, not exposure.
    "CKV2_AWS_5": "LOW",
    "CKV2_AWS_12": "MEDIUM",
    # Module source pinning is the pre-plan guard's business (PRE-SOURCE-001).
    "CKV_TF_1": "LOW",
    "CKV_TF_2": "LOW",
}


def main() -> None:
    checkov = sys.argv[1] if len(sys.argv) > 1 else ".tools/bin/checkov"
    listing = subprocess.run([checkov, "--list", "--framework", "terraform"], capture_output=True, text=True, check=True).stdout
    version = subprocess.run([checkov, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    titles = {}
    for line in listing.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 7 or not re.match(r"^CKV2?_[A-Z0-9]+_\d+$", cells[2]):
            continue
        titles.setdefault(cells[2], cells[5])
    severities = {}
    for check_id in sorted(titles, key=lambda i: (re.sub(r"\d+$", "", i), int(re.search(r"\d+$", i).group()))):
        if check_id in OVERRIDES:
            severities[check_id] = OVERRIDES[check_id]
            continue
        title = titles[check_id].lower()
        severities[check_id] = next(sev for sev, rx in CLASSES if re.search(rx, title))
    out = {
        "source": "infra-agent's own classification of the pinned checkov's Terraform checks (scripts/checkov-severity.py); checkov has no severities offline",
        "checkov_version": version,
        "severities": severities,
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
