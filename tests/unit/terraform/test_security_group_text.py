"""EC2 refuses a security group or rule description outside its character set (AuthorizeSecurityGroupIngress:
"Valid descriptions are strings less than 256 characters from the following set: a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*";
the AWS provider checks the same pattern at plan time). An apostrophe in the SSH rule once made every plan with
ssh_allowed_cidrs fail; this reads every description in the security-group resources, no AWS needed."""

from __future__ import annotations

import re

from tests.support.terraform import TERRAFORM_DIR

EC2_DESCRIPTION = re.compile(r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{0,255}$")
SG_RESOURCE = re.compile(r'^resource "(aws_security_group\w*|aws_vpc_security_group_\w+_rule)" "\w+" \{', re.M)


def blocks(text: str) -> list[str]:
    """The bodies of the security-group resources in one file, found by matching braces."""
    found = []
    for match in SG_RESOURCE.finditer(text):
        depth, i = 0, match.end() - 1
        while True:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                break
            i += 1
        found.append(text[match.end() : i])
    return found


def descriptions() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in TERRAFORM_DIR.rglob("*.tf"):
        if ".terraform" in path.parts:
            continue
        for body in blocks(path.read_text(encoding="utf-8")):
            out.setdefault(str(path.relative_to(TERRAFORM_DIR)), []).extend(
                re.findall(r'^\s*description\s*=\s*"((?:[^"\\]|\\.)*)"', body, re.M)
            )
    return out


def test_every_security_group_description_is_in_ec2s_character_set() -> None:
    found = descriptions()
    assert sum(len(v) for v in found.values()) >= 3, found  # the ingester's group and its SSH and HTTPS rules
    bad = {where: [d for d in texts if not EC2_DESCRIPTION.match(d)] for where, texts in found.items()}
    assert {where: texts for where, texts in bad.items() if texts} == {}
