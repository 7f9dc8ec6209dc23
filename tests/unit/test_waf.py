"""The optional web firewall in template.yaml: off by default, and when on, a regional web ACL on
the API's stage with AWS's managed rules for common exploits and known bad inputs, a per-IP rate
limit, and an alarm on the metric its blocks are counted in. (`sam validate --lint` and checkov
check the resources themselves: tests/packaging/test_validate.py, `make checkov`.)"""

from __future__ import annotations

from reviewpulse_tools.local.template import load_template, read_sam_template

WAF_RESOURCES = {"ApiWebAcl", "ApiWebAclAssociation", "WafBlockedRequestsAlarm"}


def test_the_firewall_is_off_unless_asked_for():
    sam = read_sam_template()
    assert sam["Parameters"]["EnableWaf"]["Default"] == "false"
    assert sam["Conditions"]["WafEnabled"] == {"Fn::Equals": [{"Ref": "EnableWaf"}, "true"]}
    for name in WAF_RESOURCES:
        assert sam["Resources"][name]["Condition"] == "WafEnabled", name


def test_the_web_acl_has_the_managed_groups_and_a_rate_limit_per_ip():
    acl = read_sam_template()["Resources"]["ApiWebAcl"]["Properties"]
    assert acl["Scope"] == "REGIONAL" and "Allow" in acl["DefaultAction"]
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    managed = {
        rule["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for rule in rules.values()
        if "ManagedRuleGroupStatement" in rule["Statement"]
    }
    assert managed == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}
    # Managed groups act as AWS wrote them (no override to count-only)
    assert all(rules[name]["OverrideAction"] == {"None": {}} for name in managed)
    rate = rules["RateLimitPerIp"]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"] == {"Limit": {"Ref": "WafRateLimitPerIp"}, "AggregateKeyType": "IP"}
    assert len({rule["Priority"] for rule in rules.values()}) == len(rules)
    assert all(rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] for rule in rules.values())


def test_it_guards_the_api_stage_and_its_blocks_are_alarmed():
    resources = read_sam_template()["Resources"]
    association = resources["ApiWebAclAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    assert "/restapis/${ReviewPulseApi}/stages/${ReviewPulseApi.Stage}" in association["ResourceArn"]["Fn::Sub"]
    alarm = resources["WafBlockedRequestsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/WAFV2", "BlockedRequests")
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    # The alarm watches the ACL by the name the ACL is given, across all its rules
    assert dimensions["WebACL"] == resources["ApiWebAcl"]["Properties"]["Name"]
    assert dimensions["Rule"] == "ALL"


def test_switched_on_the_template_translates_with_the_firewall_conditioned():
    # Given the template as SAM translates it with EnableWaf=true, Then the resources are there,
    # each still under WafEnabled (CloudFormation drops them when it is false)
    resources = load_template(overrides={"EnableWaf": "true"}).resources
    assert {name: resources[name]["Condition"] for name in WAF_RESOURCES} == dict.fromkeys(WAF_RESOURCES, "WafEnabled")
