#!/usr/bin/env bash
# Dumps a VPC's networking configuration with read-only AWS CLI calls, for `vpcsim import aws DIR`.
# docs/import.md describes what is read and how it becomes a scenario.
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: scripts/dump-aws.sh REGION [VPC_ID] [OUTDIR]

Runs read-only AWS CLI calls (--region REGION --output json) and saves each call's output as
OUTDIR/<call>.json (default OUTDIR: aws-dump-REGION[-VPC_ID]). With VPC_ID, every call that supports
`--filters Name=vpc-id,Values=VPC_ID` is filtered (internet gateways by attachment.vpc-id); Lambda
functions are filtered with jq when jq is installed, else all functions of the region are saved.
Then:  vpcsim import aws OUTDIR --out vpc.yaml

Calls: ec2 describe-vpcs, describe-subnets, describe-route-tables, describe-network-acls,
describe-security-groups, describe-nat-gateways, describe-internet-gateways, describe-network-interfaces,
describe-instances, describe-addresses, describe-managed-prefix-lists, get-managed-prefix-list-entries
(one per prefix list), describe-vpc-peering-connections, describe-vpc-endpoints, describe-transit-gateways,
describe-transit-gateway-attachments, describe-transit-gateway-vpc-attachments,
describe-transit-gateway-route-tables, get-transit-gateway-route-table-propagations and
search-transit-gateway-routes (one each per transit gateway route table: the table's id is in the file
name, as their output does not carry it), describe-vpn-gateways, describe-vpn-connections,
describe-customer-gateways; lambda list-functions, get-function-configuration (one per function in a VPC).

IAM permissions needed (all read-only):
  ec2:DescribeVpcs               ec2:DescribeSubnets             ec2:DescribeRouteTables
  ec2:DescribeNetworkAcls        ec2:DescribeSecurityGroups      ec2:DescribeNatGateways
  ec2:DescribeInternetGateways   ec2:DescribeNetworkInterfaces   ec2:DescribeInstances
  ec2:DescribeAddresses          ec2:DescribeManagedPrefixLists  ec2:GetManagedPrefixListEntries
  ec2:DescribeVpcPeeringConnections                              ec2:DescribeVpcEndpoints
  ec2:DescribeTransitGateways    ec2:DescribeTransitGatewayAttachments
  ec2:DescribeTransitGatewayVpcAttachments                       ec2:DescribeTransitGatewayRouteTables
  ec2:GetTransitGatewayRouteTablePropagations                    ec2:SearchTransitGatewayRoutes
  ec2:DescribeVpnGateways        ec2:DescribeVpnConnections      ec2:DescribeCustomerGateways
  lambda:ListFunctions           lambda:GetFunctionConfiguration
(The AWS managed policy ReadOnlyAccess covers them. AmazonEC2ReadOnlyAccess plus AWSLambda_ReadOnlyAccess
covers all but ec2:GetManagedPrefixListEntries, ec2:GetTransitGatewayRouteTablePropagations and
ec2:SearchTransitGatewayRoutes: AmazonEC2ReadOnlyAccess grants ec2:Describe* only.)
USAGE
}

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    "") usage >&2; exit 2 ;;
esac
REGION=$1
VPC_ID=${2:-}
OUTDIR=${3:-aws-dump-$REGION${VPC_ID:+-$VPC_ID}}

command -v aws >/dev/null 2>&1 || { echo "dump-aws.sh: the AWS CLI (aws) is not installed" >&2; exit 2; }
export AWS_PAGER=""
mkdir -p "$OUTDIR"

# call NAME aws-arguments…: saves the output as OUTDIR/NAME.json, only when the call succeeded.
call() {
    local name=$1
    shift
    local tmp="$OUTDIR/.$name.json.partial"
    aws "$@" --region "$REGION" --output json >"$tmp"
    mv "$tmp" "$OUTDIR/$name.json"
    echo "  $OUTDIR/$name.json" >&2
}

filter=()
igw_filter=()
vpc_ids=()
if [[ -n $VPC_ID ]]; then
    filter=(--filters "Name=vpc-id,Values=$VPC_ID")
    igw_filter=(--filters "Name=attachment.vpc-id,Values=$VPC_ID")
    vpc_ids=(--vpc-ids "$VPC_ID")
fi

echo "dump-aws.sh: region $REGION${VPC_ID:+, $VPC_ID} → $OUTDIR" >&2
call describe-vpcs ec2 describe-vpcs ${vpc_ids[@]+"${vpc_ids[@]}"}
call describe-subnets ec2 describe-subnets ${filter[@]+"${filter[@]}"}
call describe-route-tables ec2 describe-route-tables ${filter[@]+"${filter[@]}"}
call describe-network-acls ec2 describe-network-acls ${filter[@]+"${filter[@]}"}
call describe-security-groups ec2 describe-security-groups ${filter[@]+"${filter[@]}"}
call describe-nat-gateways ec2 describe-nat-gateways ${filter[@]+"${filter[@]}"}
call describe-internet-gateways ec2 describe-internet-gateways ${igw_filter[@]+"${igw_filter[@]}"}
call describe-network-interfaces ec2 describe-network-interfaces ${filter[@]+"${filter[@]}"}
call describe-instances ec2 describe-instances ${filter[@]+"${filter[@]}"}
call describe-addresses ec2 describe-addresses
call describe-vpc-peering-connections ec2 describe-vpc-peering-connections
call describe-vpc-endpoints ec2 describe-vpc-endpoints ${filter[@]+"${filter[@]}"}
call describe-managed-prefix-lists ec2 describe-managed-prefix-lists
# Transit gateways, virtual private gateways and VPN connections: not filterable by vpc-id, dumped whole.
call describe-transit-gateways ec2 describe-transit-gateways
call describe-transit-gateway-attachments ec2 describe-transit-gateway-attachments
call describe-transit-gateway-vpc-attachments ec2 describe-transit-gateway-vpc-attachments
call describe-transit-gateway-route-tables ec2 describe-transit-gateway-route-tables
call describe-vpn-gateways ec2 describe-vpn-gateways
call describe-vpn-connections ec2 describe-vpn-connections
call describe-customer-gateways ec2 describe-customer-gateways
# Egress-only internet gateways (IPv6): dumped whole; the import keeps those attached to a dumped VPC.
call describe-egress-only-internet-gateways ec2 describe-egress-only-internet-gateways

# get-managed-prefix-list-entries prints only the entries: the prefix list's id goes into the file name.
for pl in $(aws ec2 describe-managed-prefix-lists --region "$REGION" --output text \
                --query 'PrefixLists[?AddressFamily==`IPv4`].PrefixListId'); do
    call "get-managed-prefix-list-entries-$pl" ec2 get-managed-prefix-list-entries --prefix-list-id "$pl"
done

# get-transit-gateway-route-table-propagations and search-transit-gateway-routes print no route-table id: it goes
# into the file name. search-transit-gateway-routes needs a filter (every route of any state and type) and returns
# at most 1000 routes (AdditionalRoutesAvailable: true says more exist; the importer warns).
for rtb in $(aws ec2 describe-transit-gateway-route-tables --region "$REGION" --output text \
                 --query 'TransitGatewayRouteTables[].TransitGatewayRouteTableId'); do
    call "get-transit-gateway-route-table-propagations-$rtb" ec2 get-transit-gateway-route-table-propagations \
        --transit-gateway-route-table-id "$rtb"
    call "search-transit-gateway-routes-$rtb" ec2 search-transit-gateway-routes --transit-gateway-route-table-id "$rtb" \
        --filters "Name=type,Values=static,propagated" --max-results 1000
done

call lambda-list-functions lambda list-functions
functions="$OUTDIR/lambda-list-functions.json"
if [[ -n $VPC_ID ]] && command -v jq >/dev/null 2>&1; then
    jq --arg vpc "$VPC_ID" '{Functions: [.Functions[] | select(.VpcConfig.VpcId? == $vpc)]}' "$functions" >"$functions.partial"
    mv "$functions.partial" "$functions"
    names=$(jq -r '.Functions[].FunctionName' "$functions")
elif command -v jq >/dev/null 2>&1; then
    names=$(jq -r '.Functions[] | select((.VpcConfig.SubnetIds? // []) | length > 0) | .FunctionName' "$functions")
else
    [[ -n $VPC_ID ]] && echo "dump-aws.sh: jq not found: lambda-list-functions.json keeps every function of $REGION" >&2
    names=$(aws lambda list-functions --region "$REGION" --output text \
                --query 'Functions[?length(VpcConfig.SubnetIds || `[]`) > `0`].FunctionName')
fi
for fn in $names; do
    call "lambda-get-function-configuration-$fn" lambda get-function-configuration --function-name "$fn"
done
echo "dump-aws.sh: done. Next: vpcsim import aws $OUTDIR --out vpc.yaml" >&2
