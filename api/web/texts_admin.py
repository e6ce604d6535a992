"""Texts of the admin pages (rules, statistics, employer accounts) and of deadline changes,
in Chinese and English; api.web.i18n merges them into its TEXTS. Plain data, no imports."""

ADMIN_TEXTS: dict[str, tuple[str, str]] = {
    # --- navigation ---
    "nav_rules": ("秒批规则", "Instant-approval rules"),
    "nav_statistics": ("全区统计", "District figures"),
    # --- rules ---
    "rules_title": ("秒批规则", "Instant-approval rules"),
    "rules_intro": (
        "推荐符合下面所有已开启的规则时，会立即批准（秒批）。不符合的，交给求职者所属中心审核。"
        "改动只影响之后提交的推荐。",
        "A referral that meets every rule that is on is approved at once. Any other waits "
        "for its centre's review. A change applies to referrals submitted after it.",
    ),
    "rule_on": ("已开启", "On"),
    "rule_off": ("已关闭", "Off"),
    "rule_change": ("修改设置", "Change settings"),
    "rule_switch_on": ("开启这条规则", "Switch this rule on"),
    "rule_switch_off": ("关闭这条规则", "Switch this rule off"),
    "rule_switched_on": ("规则已开启。", "The rule is on."),
    "rule_switched_off": ("规则已关闭。", "The rule is off."),
    "rule_saved": ("规则已保存。", "The rule is saved."),
    "rule_created": ("新规则已生效。", "The new rule is in force."),
    "rule_edit_title": ("修改规则：{rule}", "Change the rule: {rule}"),
    "rule_new_title": ("新增规则：{rule}", "New rule: {rule}"),
    "rule_add_title": ("新增规则", "Add a rule"),
    "rule_add_intro": (
        "下面这些检查还没有作为规则使用。选择一项进行设置。",
        "These checks are not used as rules yet. Choose one to set it up.",
    ),
    "rule_add_none": (
        "系统提供的每项检查都已经是规则了。可以在规则页面修改它们。",
        "Every check the service offers is a rule already. You can change them on the rules page.",
    ),
    "rule_set_up": ("设置这条规则", "Set up this rule"),
    "rule_form_intro": (
        "保存前，可以先试算：看看最近提交的推荐在这些设置下会怎样处理。试算不会改变任何内容。",
        "Before saving, you can try the settings: see what they would have decided for "
        "recently submitted referrals. Trying changes nothing.",
    ),
    "rule_enabled": ("规则状态", "Rule status"),
    "rule_description_zh": ("规则说明（中文）", "Description (Chinese)"),
    "rule_description_en": ("规则说明（英文）", "Description (English)"),
    "rule_save": ("保存规则", "Save the rule"),
    "rule_create": ("启用这条规则", "Put this rule into force"),
    "err_rule_changed": (
        "这条规则刚被别人修改过。下面是现在的设置，请再检查一次。",
        "Someone else just changed this rule. These are its settings now; please check again.",
    ),
    "err_days": ("请输入 1 到 366 之间的天数。", "Enter a number of days from 1 to 366."),
    "none_chosen": ("（没有选择）", "(none chosen)"),
    "param_essential_needs_met_allow_arrangeable": (
        "可以安排的便利也算满足",
        "Needs the employer can arrange count as met",
    ),
    "param_essential_needs_met_allow_arrangeable_hint": (
        "选“否”：只有岗位现在就提供的便利才算满足。",
        "Choose No to count only what the workplace offers now.",
    ),
    "param_profile_complete_fields": ("必须填写的资料", "Profile parts that must be filled in"),
    "param_profile_complete_fields_hint": (
        "求职者资料中这些内容都填写了，才算完整。",
        "The profile counts as complete when all of these are filled in.",
    ),
    "param_max_open_referrals_max": (
        "同时进行的推荐最多几个",
        "Most referrals open at once",
    ),
    "param_max_open_referrals_max_hint": ("1 到 100 之间的数字。", "A number from 1 to 100."),
    "param_max_arrangeable_needs_max": (
        "最多几项必需便利需要另行安排",
        "Most essential needs still to be arranged",
    ),
    "param_max_arrangeable_needs_max_hint": ("0 到 20 之间的数字。", "A number from 0 to 20."),
    "rule_failed_max_arrangeable_needs": (
        "需要用人单位另行安排的便利太多。",
        "Too many of the seeker's needs must still be arranged by the employer.",
    ),
    # --- dry run ---
    "dry_run_title": ("试算现行规则", "Try the rules in force"),
    "dry_run_link": ("试算现行规则", "Try the rules in force"),
    "dry_run_intro": (
        "用现行规则重新判断最近提交的推荐，看看哪些会秒批、哪些会交给中心审核。试算不会改变任何内容。",
        "The rules in force are applied again to recently submitted referrals: which would be "
        "approved at once, which would wait for review. Trying changes nothing.",
    ),
    "dry_run_days": ("试算最近多少天的推荐", "Referrals submitted in the last how many days"),
    "dry_run_days_hint": ("1 到 366 天。", "1 to 366 days."),
    "rule_try_days": (
        "试算时：看最近多少天提交的推荐",
        "When trying: referrals submitted in the last how many days",
    ),
    "dry_run_again": ("重新试算", "Try again"),
    "dry_run_button": ("先试算，不保存", "Try first, without saving"),
    "dry_run_result": ("试算结果", "What these rules would decide"),
    "dry_run_counts": (
        "最近 {days} 天提交的 {total} 份推荐中：{instant} 份会秒批，{queue} 份会交给中心审核。",
        "Of {total} referrals submitted in the last {days} days, {instant} would be approved "
        "at once and {queue} would wait for review.",
    ),
    "dry_run_changed": (
        "其中 {n} 份的处理方式和当时不同。",
        "{n} of them would be decided differently from how they were.",
    ),
    "dry_run_waiting": (
        "现在仍在等待审核的推荐中，有 {n} 份在这些规则下会秒批（改动只影响之后提交的推荐）。",
        "{n} referrals still waiting for review would be approved at once under these rules "
        "(a change applies only to referrals submitted after it).",
    ),
    "dry_run_table": (
        "每份推荐的试算结果（处理方式不同的排在前面）",
        "Each referral (those decided differently first)",
    ),
    "dry_run_referral": ("推荐", "Referral"),
    "dry_run_submitted": ("提交时间", "Submitted"),
    "dry_run_now": ("现在的状态", "State now"),
    "dry_run_would": ("按这些规则", "Under these rules"),
    "dry_run_was": ("当时", "Then"),
    "dry_run_failed": ("不符合的规则", "Rules not met"),
    "dry_run_differs": ("（和当时不同）", "(differs from then)"),
    "dry_run_none_failed": ("全部符合", "All met"),
    "dry_run_more": (
        "还有 {n} 份没有列出（已计入上面的数字）。",
        "{n} more are not listed (they are counted above).",
    ),
    "decision_instant": ("秒批", "Approved at once"),
    "decision_queue": ("中心审核", "Centre review"),
    # --- statistics ---
    "stats_title": ("全区统计", "District figures"),
    "stats_intro": (
        "各职康中心现在的数字。为保护个人信息，少于 {n} 人的数字显示为“少于5”；"
        "如果全区合计能推算出被隐藏的数字，合计也不显示。岗位不是个人，照实显示。",
        "Each centre's figures now. To protect people, counts under {n} read “fewer than 5”; "
        "a district total that would reveal a hidden count is not shown either. Postings "
        "are not people and are shown as they are.",
    ),
    "stats_overview": ("概况", "Overview"),
    "stats_seekers": ("求职者", "Job seekers"),
    "stats_postings_open": ("在招岗位", "Open postings"),
    "stats_postings": ("全部岗位", "All postings"),
    "stats_referrals": ("推荐", "Referrals"),
    "stats_hires": ("录用", "Hires"),
    "stats_by_state": ("推荐按状态", "Referrals by state"),
    "stats_by_state_intro": (
        "每份推荐按它现在的状态计数，包括以前的推荐。",
        "Each referral is counted in the state it is in now, old ones included.",
    ),
    "stats_small": ("少于5", "fewer than 5"),
    "stats_hidden": ("不显示", "not shown"),
    "stats_district": ("全区合计", "Whole district"),
    "stats_no_centre": ("未选中心的用人单位", "Employers without a centre"),
    # --- employer accounts made by staff ---
    "employer_account_link": ("新增用人单位账号", "Add an employer account"),
    "employer_account_title": ("新增用人单位账号", "Add an employer account"),
    "employer_account_intro": (
        "为不方便自己注册的用人单位建立账号和单位资料。请把密码安全地告诉对方。",
        "Create the account and organisation of an employer who cannot register alone. "
        "Give them the password in a safe way.",
    ),
    "employer_account_org": ("单位信息", "The organisation"),
    "employer_account_verified": ("核实", "Verification"),
    "employer_account_verified_yes": (
        "我已核实这家单位的营业执照",
        "I have checked this organisation's business licence",
    ),
    "employer_account_verified_hint": (
        "核实过的单位，其推荐可以秒批。",
        "Referrals to a verified employer can be approved at once.",
    ),
    "employer_account_create": ("建立账号", "Create the account"),
    # --- a referral's review deadline ---
    "deadline_heading": ("修改审核期限", "Change the review deadline"),
    "deadline_intro": (
        "需要更多时间时，可以改期限。请写明原因，原因会被记录。",
        "If the review needs more time, change the deadline. Say why; the reason is recorded.",
    ),
    "deadline_date": ("新的期限日期", "New deadline date"),
    "deadline_time": ("时间", "Time"),
    "deadline_time_hint": (
        "24 小时制，例如 17:00。不填就是 17:00。",
        "24-hour clock, for example 17:00. Left empty: 17:00.",
    ),
    "deadline_reason": ("改期限的原因", "Why the deadline changes"),
    "deadline_reason_hint": (
        "例如：等待手语翻译安排面谈。",
        "For example: waiting for an interpreter to meet the seeker.",
    ),
    "deadline_button": ("保存新期限", "Save the new deadline"),
    "deadline_changed": ("审核期限已修改。", "The review deadline is changed."),
    "err_deadline_reason": ("请写明改期限的原因。", "Please say why the deadline changes."),
    "err_deadline_past": ("请选择将来的时间。", "Choose a time in the future."),
}
