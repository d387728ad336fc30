#!/usr/bin/env python3
"""Writes the seed story's Terraform plans in the form `terraform show -json` gives (format_version 1.2).
`make-plans.py fix` (docs/ci/lambda-sftp-nacl-fix.plan.json): prior_state is the network of
scenarios/lambda-sftp-nacl.yaml (the public NACL lets out only HTTPS and replies), and the plan adds
aws_network_acl_rule.public_out_sftp (outbound tcp/22). `make-plans.py before`
(docs/ci/lambda-sftp-nacl-before.plan.json): the same network, unchanged (every action no-op).
Hand-made, not Terraform's output; deterministic (run it again: the same bytes)."""
import json, sys

VPC = "vpc-0a1b2c3d4e5f60718"
IGW = "igw-0c2d4e6f8a0b1c2d3"
PUB, PRIV = "subnet-0aa11bb22cc33dd44", "subnet-0ee55ff6607788990"
RT_PUB, RT_PRIV = "rtb-0f1e2d3c4b5a69788", "rtb-0123456789abcdef0"
ACL_PUB, ACL_PRIV = "acl-0b1c2d3e4f5a6b7c8", "acl-0c1d2e3f4a5b6c7d8"
SG = "sg-0d1e2f3a4b5c6d7e8"
NAT, EIP = "nat-0e1f2a3b4c5d6e7f8", "eipalloc-0a0b0c0d0e0f01234"

def acl_rule(name, number, egress, port_from, port_to, cidr, acl="public"):
    return (f"aws_network_acl_rule.{name}", "aws_network_acl_rule", name,
            {"id": f"nacl-{number}{int(egress)}",
             "network_acl_id": ACL_PUB if acl == "public" else ACL_PRIV, "rule_number": number, "egress": egress,
             "protocol": "tcp", "rule_action": "allow", "cidr_block": cidr, "from_port": port_from, "to_port": port_to,
             "icmp_code": None, "icmp_type": None, "ipv6_cidr_block": None},
            {"network_acl_id": {"references": [f"aws_network_acl.{acl}.id", f"aws_network_acl.{acl}"]},
             "rule_number": {"constant_value": number}, "egress": {"constant_value": egress},
             "protocol": {"constant_value": "tcp"}, "rule_action": {"constant_value": "allow"},
             "cidr_block": {"constant_value": cidr}, "from_port": {"constant_value": port_from},
             "to_port": {"constant_value": port_to}})

resources = [
    ("aws_vpc.main", "aws_vpc", "main", {"id": VPC, "cidr_block": "10.0.0.0/16", "tags": {"Name": "main"},
      "default_route_table_id": "rtb-0aaaaaaaaaaaaaaaa", "default_network_acl_id": "acl-0aaaaaaaaaaaaaaaa",
      "default_security_group_id": "sg-0aaaaaaaaaaaaaaaa", "main_route_table_id": RT_PRIV},
     {"cidr_block": {"constant_value": "10.0.0.0/16"}}),
    ("aws_internet_gateway.main", "aws_internet_gateway", "main", {"id": IGW, "vpc_id": VPC, "tags": {"Name": "main-igw"}},
     {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]}}),
    ("aws_subnet.public", "aws_subnet", "public", {"id": PUB, "vpc_id": VPC, "cidr_block": "10.0.0.0/24",
      "availability_zone": "us-east-1a", "map_public_ip_on_launch": False, "tags": {"Name": "public"}},
     {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]}, "cidr_block": {"constant_value": "10.0.0.0/24"}}),
    ("aws_subnet.private", "aws_subnet", "private", {"id": PRIV, "vpc_id": VPC, "cidr_block": "10.0.1.0/24",
      "availability_zone": "us-east-1a", "map_public_ip_on_launch": False, "tags": {"Name": "private"}},
     {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]}, "cidr_block": {"constant_value": "10.0.1.0/24"}}),
    ("aws_eip.nat", "aws_eip", "nat", {"id": EIP, "allocation_id": EIP, "public_ip": "198.51.100.7", "domain": "vpc"}, {}),
    ("aws_nat_gateway.public", "aws_nat_gateway", "public", {"id": NAT, "subnet_id": PUB, "allocation_id": EIP,
      "connectivity_type": "public", "private_ip": "10.0.0.5", "public_ip": "198.51.100.7", "tags": {"Name": "public-nat"}},
     {"subnet_id": {"references": ["aws_subnet.public.id", "aws_subnet.public"]},
      "allocation_id": {"references": ["aws_eip.nat.id", "aws_eip.nat"]}}),
    ("aws_route_table.public", "aws_route_table", "public", {"id": RT_PUB, "vpc_id": VPC, "tags": {"Name": "public-rt"},
      "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": IGW, "nat_gateway_id": "", "ipv6_cidr_block": "",
                 "destination_prefix_list_id": "", "network_interface_id": "", "transit_gateway_id": "",
                 "vpc_endpoint_id": "", "vpc_peering_connection_id": ""}]},
     {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]},
      "route": [{"cidr_block": {"constant_value": "0.0.0.0/0"},
                 "gateway_id": {"references": ["aws_internet_gateway.main.id", "aws_internet_gateway.main"]}}]}),
    ("aws_route_table.private", "aws_route_table", "private", {"id": RT_PRIV, "vpc_id": VPC, "tags": {"Name": "private-rt"},
      "route": []}, {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]}}),
    ("aws_route.private_default", "aws_route", "private_default", {"id": "r-" + RT_PRIV + "1080289494",
      "route_table_id": RT_PRIV, "destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": NAT},
     {"route_table_id": {"references": ["aws_route_table.private.id", "aws_route_table.private"]},
      "destination_cidr_block": {"constant_value": "0.0.0.0/0"},
      "nat_gateway_id": {"references": ["aws_nat_gateway.public.id", "aws_nat_gateway.public"]}}),
    ("aws_main_route_table_association.private", "aws_main_route_table_association", "private",
     {"id": "rtbassoc-0aaaaaaaaaaaaaaa1", "vpc_id": VPC, "route_table_id": RT_PRIV},
     {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]},
      "route_table_id": {"references": ["aws_route_table.private.id", "aws_route_table.private"]}}),
    ("aws_route_table_association.public", "aws_route_table_association", "public",
     {"id": "rtbassoc-0aaaaaaaaaaaaaaa2", "subnet_id": PUB, "route_table_id": RT_PUB},
     {"subnet_id": {"references": ["aws_subnet.public.id", "aws_subnet.public"]},
      "route_table_id": {"references": ["aws_route_table.public.id", "aws_route_table.public"]}}),
    ("aws_route_table_association.private", "aws_route_table_association", "private",
     {"id": "rtbassoc-0aaaaaaaaaaaaaaa3", "subnet_id": PRIV, "route_table_id": RT_PRIV},
     {"subnet_id": {"references": ["aws_subnet.private.id", "aws_subnet.private"]},
      "route_table_id": {"references": ["aws_route_table.private.id", "aws_route_table.private"]}}),
    ("aws_network_acl.public", "aws_network_acl", "public", {"id": ACL_PUB, "vpc_id": VPC, "subnet_ids": [PUB],
      "tags": {"Name": "public-nacl"},
      "ingress": [
        {"rule_no": 100, "action": "allow", "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_block": "10.0.1.0/24", "icmp_code": 0, "icmp_type": 0, "ipv6_cidr_block": ""},
        {"rule_no": 110, "action": "allow", "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_block": "10.0.1.0/24", "icmp_code": 0, "icmp_type": 0, "ipv6_cidr_block": ""},
        {"rule_no": 120, "action": "allow", "protocol": "tcp", "from_port": 1024, "to_port": 65535, "cidr_block": "0.0.0.0/0", "icmp_code": 0, "icmp_type": 0, "ipv6_cidr_block": ""}],
      "egress": [
        {"rule_no": 100, "action": "allow", "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_block": "0.0.0.0/0", "icmp_code": 0, "icmp_type": 0, "ipv6_cidr_block": ""},
        {"rule_no": 110, "action": "allow", "protocol": "tcp", "from_port": 1024, "to_port": 65535, "cidr_block": "10.0.1.0/24", "icmp_code": 0, "icmp_type": 0, "ipv6_cidr_block": ""}]},
     {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]},
      "subnet_ids": {"references": ["aws_subnet.public.id", "aws_subnet.public"]}}),
    ("aws_network_acl.private", "aws_network_acl", "private", {"id": ACL_PRIV, "vpc_id": VPC, "subnet_ids": [PRIV],
      "tags": {"Name": "private-nacl"},
      "ingress": [{"rule_no": 100, "action": "allow", "protocol": "-1", "from_port": 0, "to_port": 0, "cidr_block": "0.0.0.0/0", "icmp_code": 0, "icmp_type": 0, "ipv6_cidr_block": ""}],
      "egress": [{"rule_no": 100, "action": "allow", "protocol": "-1", "from_port": 0, "to_port": 0, "cidr_block": "0.0.0.0/0", "icmp_code": 0, "icmp_type": 0, "ipv6_cidr_block": ""}]},
     {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]},
      "subnet_ids": {"references": ["aws_subnet.private.id", "aws_subnet.private"]}}),
    ("aws_security_group.lambda", "aws_security_group", "lambda", {"id": SG, "vpc_id": VPC, "name": "lambda-sg",
      "description": "uploader", "tags": {"Name": "lambda-sg"}, "ingress": [], "egress": []},
     {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]}, "name": {"constant_value": "lambda-sg"}}),
    ("aws_vpc_security_group_egress_rule.lambda_all", "aws_vpc_security_group_egress_rule", "lambda_all",
     {"id": "sgr-0aaaaaaaaaaaaaaa1", "security_group_id": SG, "ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0",
      "from_port": None, "to_port": None, "description": "all outbound"},
     {"security_group_id": {"references": ["aws_security_group.lambda.id", "aws_security_group.lambda"]},
      "ip_protocol": {"constant_value": "-1"}, "cidr_ipv4": {"constant_value": "0.0.0.0/0"}}),
    ("aws_lambda_function.uploader", "aws_lambda_function", "uploader", {"id": "uploader", "function_name": "uploader",
      "timeout": 30, "vpc_config": [{"subnet_ids": [PRIV], "security_group_ids": [SG], "vpc_id": VPC}]},
     {"function_name": {"constant_value": "uploader"}, "timeout": {"constant_value": 30},
      "vpc_config": [{"subnet_ids": {"references": ["aws_subnet.private.id", "aws_subnet.private"]},
                      "security_group_ids": {"references": ["aws_security_group.lambda.id", "aws_security_group.lambda"]}}]}),
]
new_rule = acl_rule("public_out_sftp", 120, True, 22, 22, "0.0.0.0/0")

def state_resource(r):
    address, type_, name, values, _ = r
    return {"address": address, "mode": "managed", "type": type_, "name": name, "provider_name": "registry.terraform.io/hashicorp/aws",
            "schema_version": 0, "values": values, "sensitive_values": {}}

def change(r, actions, unknown):
    address, type_, name, values, _ = r
    after = {k: v for k, v in values.items() if k not in unknown}
    return {"address": address, "mode": "managed", "type": type_, "name": name, "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": actions, "before": None if actions == ["create"] else values, "after": after,
                       "after_unknown": {k: True for k in unknown}, "before_sensitive": {}, "after_sensitive": {}}}

def config(r):
    address, type_, name, _, expressions = r
    return {"address": address, "mode": "managed", "type": type_, "name": name, "provider_config_key": "aws",
            "expressions": expressions, "schema_version": 0}

fix = len(sys.argv) < 2 or sys.argv[1] == "fix"
after_resources = resources + ([new_rule] if fix else [])
plan = {
    "format_version": "1.2",
    "terraform_version": "1.9.8",
    "planned_values": {"root_module": {"resources": [state_resource(r) for r in after_resources]}},
    "resource_changes": [change(r, ["no-op"], []) for r in resources] + ([change(new_rule, ["create"], ["id"])] if fix else []),
    "prior_state": {"format_version": "1.0", "terraform_version": "1.9.8",
                    "values": {"root_module": {"resources": [state_resource(r) for r in resources]}}},
    "configuration": {"provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}},
                      "root_module": {"resources": [config(r) for r in after_resources]}},
    "timestamp": "2026-11-26T09:00:00Z",
    "applyable": True, "complete": True, "errored": False,
}
json.dump(plan, sys.stdout, indent=1, sort_keys=False)
sys.stdout.write("\n")
