"""Every text of the web pages, in Chinese (the default) and English, in one place.

Templates never hold words of their own: they call `t("key")`. Plain language: short
sentences, everyday words, one idea per sentence.
"""

from collections.abc import Mapping
from typing import Final

from api.web.texts_admin import ADMIN_TEXTS

LANGUAGES: Final = ("zh", "en")
DEFAULT_LANGUAGE: Final = "zh"
LANGUAGE_NAMES: Final = {"zh": "中文", "en": "English"}

_CORE_TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    # --- the frame of every page ---
    "site_name": ("残联就业匹配", "Jobmatch for disabled job seekers"),
    "skip_link": ("跳到主要内容", "Skip to main content"),
    "main_nav": ("主菜单", "Main menu"),
    "language_switch": ("语言", "Language"),
    "switch_to": ("切换到", "Switch to"),
    "footer_text": (
        "区残疾人联合会及九个街道职康中心提供服务。",
        "A service of the district Disabled Persons' Federation and its nine centres.",
    ),
    "logged_in_as": ("已登录：", "Logged in as:"),
    "error_prefix": ("出错：", "Error: "),
    "required": ("（必填）", "(required)"),
    "optional": ("（选填）", "(optional)"),
    "back_home": ("回到首页", "Back to the start page"),
    "save": ("保存", "Save"),
    "cancel": ("取消", "Cancel"),
    "none_yet": ("暂时没有。", "Nothing here yet."),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "more_pages": ("更多", "More"),
    "next_page": ("下一页", "Next page"),
    "previous_page": ("上一页", "Previous page"),
    "page_of": ("第 {page} 页，共 {pages} 页", "Page {page} of {pages}"),
    # --- navigation ---
    "nav_home": ("首页", "Start"),
    "nav_login": ("登录", "Log in"),
    "nav_register": ("注册", "Register"),
    "nav_logout": ("退出登录", "Log out"),
    "nav_accessibility": ("显示设置", "Display settings"),
    "nav_profile": ("我的资料", "My profile"),
    "nav_needs": ("我的便利需求", "My accommodation needs"),
    "nav_consents": ("同意与隐私", "Consent and privacy"),
    "nav_matches": ("为我推荐的岗位", "Jobs that match me"),
    "nav_trainings": ("培训", "Trainings"),
    "nav_my_data": ("我的数据", "My data"),
    "nav_organisation": ("单位资料", "Organisation"),
    "nav_quota": ("按比例就业", "Quota position"),
    "nav_vacancies": ("我的岗位", "My vacancies"),
    "nav_new_vacancy": ("发布岗位", "Post a vacancy"),
    "nav_centre_seekers": ("本中心求职者", "Our centre's seekers"),
    "nav_centre_trainings": ("本中心培训", "Our centre's trainings"),
    "nav_accommodations": ("便利措施目录", "Accommodation list"),
    "nav_centres": ("职康中心", "Service centres"),
    "nav_accounts": ("账号", "Accounts"),
    # --- start page ---
    "home_title": ("欢迎", "Welcome"),
    "home_intro": (
        "这里帮助残疾人找到合适的工作。岗位会说明工作场所的无障碍条件和可以提供的便利。",
        "This service helps disabled people find suitable work. Each job says how "
        "accessible the workplace is and which accommodations it can provide.",
    ),
    "home_anonymous": (
        "请先登录。还没有账号？求职者和用人单位都可以注册。",
        "Please log in first. No account yet? Job seekers and employers can register.",
    ),
    "home_choose": ("您可以：", "What you can do:"),
    # --- accessibility preferences ---
    "a11y_title": ("显示设置", "Display settings"),
    "a11y_intro": (
        "选择让页面更容易阅读的方式。设置保存在这台设备的浏览器里。",
        "Choose what makes the pages easier for you. The setting is kept in this device's browser.",
    ),
    "a11y_legend": ("显示方式", "How pages look"),
    "a11y_large_text": ("大字体", "Larger text"),
    "a11y_large_text_hint": ("所有文字放大约四分之一。", "All text about a quarter larger."),
    "a11y_high_contrast": ("高对比度", "High contrast"),
    "a11y_high_contrast_hint": (
        "黑底白字、黄色链接，更容易看清。",
        "White text on black, yellow links: easier to see.",
    ),
    "a11y_reduced_motion": ("减少动画", "Reduced motion"),
    "a11y_reduced_motion_hint": ("页面不使用动画和过渡效果。", "No animations or transitions."),
    "a11y_saved": ("显示设置已保存。", "Your display settings are saved."),
    # --- log in, register, log out ---
    "login_title": ("登录", "Log in"),
    "login_intro": (
        "请输入注册时用的邮箱和密码。",
        "Enter the email and password you registered with.",
    ),
    "email": ("邮箱", "Email"),
    "password": ("密码", "Password"),
    "password_hint": (
        "至少 10 个字符。一句好记的长句最安全。",
        "At least 10 characters. A long phrase you can remember is safest.",
    ),
    "login_button": ("登录", "Log in"),
    "login_failed": ("邮箱或密码不对。", "The email or password is wrong."),
    "login_throttled": (
        "登录失败次数太多。请 {minutes} 分钟后再试。",
        "Too many failed logins. Please try again in {minutes} minutes.",
    ),
    "no_account": ("还没有账号？", "No account yet?"),
    "register_title": ("注册账号", "Register"),
    "register_intro": (
        "求职者和用人单位可以在这里注册。就业服务专员的账号由区残联开通。",
        "Job seekers and employers register here. The federation opens staff accounts.",
    ),
    "display_name": ("称呼", "Your name"),
    "display_name_hint": ("别人怎样称呼您。", "What others should call you."),
    "role": ("我是", "I am"),
    "role_seeker": ("求职者", "a job seeker"),
    "role_employer": ("用人单位", "an employer"),
    "preferred_language": ("通知用的语言", "Language for messages"),
    "centre": ("职康中心", "Service centre"),
    "centre_hint": (
        "离您住处最近的街道职康中心。",
        "The street service centre nearest to where you live.",
    ),
    "choose_one": ("请选择", "Please choose"),
    "employer_details": ("单位信息（用人单位填写）", "Your organisation (employers only)"),
    "employer_name": ("单位名称", "Organisation name"),
    "uscc": ("统一社会信用代码", "Unified social credit code"),
    "uscc_hint": ("18 位，见营业执照。", "18 characters, on the business licence."),
    "staff_count": ("职工人数", "Number of staff"),
    "industry": ("行业", "Industry"),
    "address": ("地址", "Address"),
    "contact_email": ("联系邮箱", "Contact email"),
    "register_button": ("注册", "Register"),
    "registered": ("注册成功。欢迎！", "You are registered. Welcome!"),
    "logged_in": ("您已登录。", "You are logged in."),
    "logged_out": ("您已退出登录。", "You are logged out."),
    "logout_button": ("退出登录", "Log out"),
    # --- form errors ---
    "errors_title": ("请改正以下问题：", "Please correct these problems:"),
    "err_required": ("请填写这一项。", "Please fill this in."),
    "err_choose": ("请选择一项。", "Please choose one."),
    "err_email": (
        "请输入有效的邮箱，例如 name@example.com。",
        "Enter a valid email, like name@example.com.",
    ),
    "err_too_short": ("太短了：至少 {n} 个字符。", "Too short: at least {n} characters."),
    "err_too_long": ("太长了：最多 {n} 个字符。", "Too long: at most {n} characters."),
    "err_number": ("请输入数字。", "Enter a number."),
    "err_number_min": ("不能小于 {n}。", "Must be at least {n}."),
    "err_number_max": ("不能大于 {n}。", "Must be at most {n}."),
    "err_date": ("请输入日期，例如 2026-12-31。", "Enter a date, like 2026-12-31."),
    "err_invalid": ("这一项的内容不对。", "This value is not valid."),
    "err_email_taken": (
        "这个邮箱已经注册过。请直接登录。",
        "This email is already registered. Please log in.",
    ),
    "err_uscc_taken": ("这个信用代码已经注册过。", "This credit code is already registered."),
    "err_uscc": (
        "不是有效的 18 位统一社会信用代码。",
        "This is not a valid 18-character credit code.",
    ),
    "err_weak_password": (
        "这个密码太常见或太容易猜到。请用一句更长的话。",
        "This password is too common or easy to guess. Try a longer phrase.",
    ),
    "err_unknown_centre": ("请从列表中选择职康中心。", "Choose a centre from the list."),
    "err_stale": (
        "别人刚刚修改过这条记录。请看下面最新的内容，再保存一次。",
        "Someone changed this record a moment ago. Check the latest version below and save again.",
    ),
    "err_health_consent": (
        "这项需求涉及健康信息。请先在“同意与隐私”页面给出健康需求的单独同意。",
        "This need says something about health. First give the health needs consent on "
        "the Consent and privacy page.",
    ),
    "err_wage_order": ("最低工资不能高于最高工资。", "The lowest wage is above the highest."),
    "err_dates_order": ("结束日期早于开始日期。", "The end date is before the start date."),
    "err_past": ("这个日期已经过去了。", "This date is in the past."),
    "err_confirm_delete": ("请输入“删除”两个字确认。", "Type DELETE to confirm."),
    "err_form_expired": (
        "表单已过期，为了安全没有保存。请再提交一次。",
        "This form had expired, so nothing was saved, for your safety. Please send it again.",
    ),
    # --- error pages ---
    "error_title": ("出了点问题", "Something went wrong"),
    "error_403": ("您没有权限打开这个页面。", "You may not open this page."),
    "error_404": ("找不到这个页面或记录。", "We cannot find this page or record."),
    "error_409": ("这个操作现在不能进行。", "This cannot be done right now."),
    "error_other": ("请稍后再试。", "Please try again later."),
    "error_503": (
        "现在无法保存更改，这次提交的内容没有保存。请稍后再试。",
        "Changes cannot be stored right now, so nothing you sent was saved. "
        "Please try again later.",
    ),
    "error_disk_full": (
        "存储空间已满，这次提交的内容没有保存。浏览不受影响；请稍后再试，或告诉管理员。",
        "The storage is full, so nothing you sent was saved. You can still look around; "
        "please try again later or tell the administrator.",
    ),
    # --- seeker: profile ---
    "profile_title": ("我的资料", "My profile"),
    "profile_intro": (
        "这些信息用来为您匹配岗位。用人单位看不到您的姓名和电话，除非您同意推荐。",
        "We use this to match you with jobs. Employers do not see your name or phone "
        "unless you agree to a referral.",
    ),
    "profile_create_intro": (
        "您还没有资料。填好下面几项，我们就能为您推荐岗位。",
        "You have no profile yet. Fill in these fields and we can suggest jobs.",
    ),
    "full_name": ("姓名", "Full name"),
    "phone": ("电话", "Phone"),
    "headline": ("一句话介绍自己", "About you in one sentence"),
    "headline_hint": ("例如：细心的数据录入员。", "For example: careful data entry clerk."),
    "skills": ("技能", "Skills"),
    "skills_hint": ("每行写一项技能。", "One skill per line."),
    "experience": ("工作经历", "Work experience"),
    "education": ("学历", "Education"),
    "desired_roles": ("想做的工作", "Jobs you want"),
    "desired_roles_hint": ("每行写一种工作。", "One job per line."),
    "location_text": ("住在哪里", "Where you live"),
    "location_hint": ("街道或小区即可。", "A street or neighbourhood is enough."),
    "commute_limit_km": ("最远通勤距离（公里）", "Longest commute (km)"),
    "commute_hint": ("不填表示不限。", "Leave empty for no limit."),
    "schedule": ("工作时间", "Working hours"),
    "work_modes": ("工作方式", "Ways of working"),
    "work_modes_hint": ("可以选多项。", "Choose one or more."),
    "expected_wage": ("期望月薪（元）", "Expected monthly wage (yuan)"),
    "profile_saved": ("资料已保存。", "Your profile is saved."),
    "profile_missing": (
        "请先填写“我的资料”。",
        "Please fill in My profile first.",
    ),
    "go_to_profile": ("去填写我的资料", "Go to My profile"),
    # --- seeker: needs ---
    "needs_title": ("我的便利需求", "My accommodation needs"),
    "needs_intro": (
        "便利需求是帮助您工作的安排，例如电梯或手语翻译。为每一项选择：",
        "Accommodations are arrangements that help you work, such as a lift or a "
        "sign-language interpreter. For each one choose:",
    ),
    "needs_level_none": ("不需要", "Not needed"),
    "needs_level_preferred": ("最好有", "Preferred"),
    "needs_level_essential": ("必须有", "Essential"),
    "needs_explain_essential": (
        "必须有：没有这项的岗位不会推荐给您。",
        "Essential: jobs that cannot provide it are not shown to you.",
    ),
    "needs_explain_preferred": (
        "最好有：有这项的岗位排得更靠前。",
        "Preferred: jobs that provide it are ranked higher.",
    ),
    "needs_health_note": (
        "涉及健康信息，需要您单独同意。",
        "Says something about health: needs your separate consent.",
    ),
    "needs_saved": ("便利需求已保存。", "Your accommodation needs are saved."),
    # --- seeker: consents ---
    "consents_title": ("同意与隐私", "Consent and privacy"),
    "consents_intro": (
        "有些信息比较敏感。只有您单独同意后我们才会保存和使用。您可以随时撤回。",
        "Some information is sensitive. We keep and use it only with your separate "
        "consent. You can withdraw at any time.",
    ),
    "consent_status_given": ("您已同意（{date}）。", "You agreed ({date})."),
    "consent_status_none": ("您还没有同意。", "You have not agreed."),
    "consent_give": ("我同意", "I agree"),
    "consent_withdraw": ("撤回同意并删除相关信息", "Withdraw and delete this information"),
    "consent_given": ("已记录您的同意。", "Your consent is recorded."),
    "consent_withdrawn": (
        "已撤回同意，相关信息已删除。",
        "Your consent is withdrawn and the information is deleted.",
    ),
    "consent_version": ("文本版本：{version}", "Text version: {version}"),
    # --- seeker: matches ---
    "matches_title": ("为我推荐的岗位", "Jobs that match me"),
    "matches_intro": (
        "按与您的匹配程度排序。每个岗位都说明了推荐理由。",
        "Sorted by how well they match you. Each job says why it is shown.",
    ),
    "match_score": ("匹配度：{score} 分（满分 100）", "Match: {score} out of 100"),
    "match_employer": ("用人单位：", "Employer:"),
    "match_verified": ("（已核实）", "(verified)"),
    "match_why": ("推荐理由", "Why this job"),
    "matched_skills": ("您具备的技能：", "Skills you have:"),
    "missing_skills": ("还缺的技能：", "Skills you lack:"),
    "needs_met": ("已经提供的便利：", "Accommodations provided:"),
    "needs_arrangeable": ("可以安排的便利：", "Accommodations that can be arranged:"),
    "needs_unmet": ("不能提供的便利：", "Accommodations not provided:"),
    # --- verified workplace accessibility (无障碍核查) ---
    "nav_checks": ("无障碍核查", "Accessibility checks"),
    "checks_title": ("无障碍核查", "Accessibility checks"),
    "checks_intro": (
        "这些岗位声明了无障碍条件。从未核查过的排在最前，其次是核查最早的。",
        "These workplaces claim accessibility. Never checked ones come first, then the "
        "oldest checks.",
    ),
    "check_posting": ("岗位与单位", "Posting and employer"),
    "check_place": ("地点", "Place"),
    "check_counts": ("声明 / 已核实 / 有争议", "Claimed / verified / disputed"),
    "check_counts_value": (
        "{claimed} / {verified} / {disputed}",
        "{claimed} / {verified} / {disputed}",
    ),
    "check_last": ("上次核查", "Last check"),
    "check_action": ("操作", "Action"),
    "never_checked": ("从未核查", "Never checked"),
    "valid_until": ("有效期至 {date}", "valid until {date}"),
    "record_check": ("记录一次核查", "Record a check"),
    "check_form_title": ("核查：{title}", "Check: {title}"),
    "check_form_intro": (
        "请逐项填写实地看到的情况。没有核查的项目选“本次未核查”。不要拍摄人物的脸。",
        "For each feature, say what you saw on site. Choose “not checked this time” for what "
        "you did not check. Do not photograph people's faces.",
    ),
    "no_claims": (
        "这个岗位没有声明任何无障碍条件。",
        "This posting claims no accessibility features.",
    ),
    "visited_on": ("核查日期", "Day of the visit"),
    "check_result_for": ("{label}：核查结果", "{label}: what you found"),
    "check_note_for": ("{label}：说明", "{label}: note"),
    "check_photo_for": ("{label}：照片", "{label}: photo"),
    "photo_hint": (
        "JPEG、PNG 或 WebP，最大 5 MB。系统会去掉照片中的位置等信息。不要拍摄人物。",
        "JPEG, PNG or WebP, up to 5 MB. Location and other hidden data are removed. Do not "
        "photograph people.",
    ),
    "check_result_skip": ("本次未核查", "Not checked this time"),
    "check_result_confirmed": ("已确认具备", "Confirmed"),
    "check_result_partly": ("部分具备", "Partly there"),
    "check_result_not_found": ("未找到", "Not found"),
    "check_overall_note": ("整体说明", "Overall note"),
    "save_check": ("保存核查结果", "Save the check"),
    "check_saved": ("核查结果已保存。", "The check was saved."),
    "err_photo": (
        "这张照片无法使用：请选择不超过 5 MB 的 JPEG、PNG 或 WebP 照片。",
        "This photo cannot be used: choose a JPEG, PNG or WebP photo of at most 5 MB.",
    ),
    "workplace_title": ("工作场所无障碍情况：{title}", "Workplace accessibility: {title}"),
    "workplace_intro": (
        "“已实地核实”表示核查人员到现场确认过；“单位声明”表示尚未核实；“有争议”表示核查时未找到或只部分具备。",
        "“Verified on site” means a checker confirmed it there; “claimed” means it is not "
        "verified yet; “disputed” means a check did not find it, or found it only partly.",
    ),
    "workplace_features": ("声明的无障碍条件", "Claimed accessibility features"),
    "feature": ("条件", "Feature"),
    "feature_offer": ("单位声明", "The employer says"),
    "feature_status": ("核实情况", "Verification"),
    "availability_available": ("现在就有", "Available now"),
    "availability_arrangeable": ("可以安排", "Can be arranged"),
    "verification_verified": ("已实地核实", "Verified on site"),
    "verification_claimed": ("单位声明，未核实", "Claimed, not verified"),
    "verification_disputed": ("有争议", "Disputed"),
    "verified_on": ("（{date} 核实）", "(checked {date})"),
    "last_checked_on": ("（上次核查 {date}）", "(last checked {date})"),
    "checker_note": ("核查说明：", "Checker's note: "),
    "employer_reply": ("单位答复：", "Employer's answer: "),
    "check_history": ("核查记录", "Checks"),
    "check_heading": ("{date} 的核查（{role}）", "Check of {date} ({role})"),
    "checker_caseworker": ("就业服务专员", "caseworker"),
    "checker_volunteer": ("无障碍监督员", "accessibility volunteer"),
    "check_expired": ("已过期", "expired"),
    "photo_link": ("{label}的照片 {n}", "Photo {n} of {label}"),
    "reply_note": ("对“{label}”的答复", "Your answer about “{label}”"),
    "reply_action": ("对“{label}”这项声明", "About the claim “{label}”"),
    "reply_action_keep": ("保留声明（说明原因）", "Keep the claim (say why)"),
    "reply_action_make_arrangeable": ("改为“可以安排”", "Change it to “can be arranged”"),
    "reply_action_withdraw_offer": ("撤回这项声明", "Withdraw the claim"),
    "send_reply": ("提交答复", "Send the answer"),
    "reply_saved": ("答复已提交。", "Your answer was sent."),
    "match_accessibility": ("无障碍条件核实情况：", "Accessibility, verified or claimed:"),
    "match_workplace_link": ("查看工作场所无障碍情况", "See the workplace's accessibility"),
    "need_essential": ("必需", "essential"),
    "need_preferred": ("希望有", "preferred"),
    "verified_only_label": (
        "必需的便利条件要经过核实吗？",
        "Must essential accommodations be verified?",
    ),
    "verified_only_option": (
        "只推荐必需的便利条件已经实地核实的岗位",
        "Only show jobs whose essential accommodations were verified on site",
    ),
    "verified_only_hint": (
        "选中后，用人单位只是声明、还没有核查人员到现场确认的条件，不算满足您的必需条件。推荐会变少。",
        "When ticked, a feature the employer only claims, not yet confirmed on site by a "
        "checker, does not count for your essential needs. You will see fewer jobs.",
    ),
    "distance": ("距离：约 {km} 公里", "Distance: about {km} km"),
    "wage": ("月薪：{wage}", "Monthly wage: {wage}"),
    "work_mode": ("工作方式：", "Way of working:"),
    "work_mode_field": ("工作方式", "Way of working"),
    "save_match": ("收藏", "Save"),
    "dismiss_match": ("不感兴趣", "Not interested"),
    "undo_match": ("撤销", "Undo"),
    "match_is_saved": ("已收藏", "Saved"),
    "match_saved": ("已收藏这个岗位。", "The job is saved."),
    "match_dismissed": (
        "已隐藏这个岗位。它不会再出现在列表里。",
        "The job is hidden. It will not appear in the list again.",
    ),
    "match_undone": ("已撤销。", "Undone."),
    "show_dismissed": ("显示已隐藏的岗位", "Show hidden jobs"),
    "no_matches": (
        "暂时没有适合您的岗位。补充技能或放宽条件可能会有帮助。",
        "No matching jobs right now. Adding skills or widening your limits may help.",
    ),
    # --- trainings ---
    "trainings_title": ("培训", "Trainings"),
    "trainings_intro": (
        "职康中心和合作机构提供的职业培训。",
        "Vocational trainings from the centres and their partners.",
    ),
    "training_dates": ("时间：{start} 至 {end}", "Dates: {start} to {end}"),
    "training_provider": ("举办方：", "Provider:"),
    "training_place": ("地点：", "Place:"),
    "training_seats": ("名额：{taken}/{capacity}", "Seats: {taken} of {capacity} taken"),
    "training_skills": ("学到的技能：", "Skills taught:"),
    "training_accessibility": ("无障碍安排：", "Accessibility:"),
    "new_training": ("发布培训", "Publish a training"),
    "title": ("名称", "Title"),
    "description": ("说明", "Description"),
    "provider": ("举办方", "Provider"),
    "starts_on": ("开始日期", "Start date"),
    "ends_on": ("结束日期", "End date"),
    "date_hint": ("格式：2026-12-31", "Format: 2026-12-31"),
    "capacity": ("名额", "Seats"),
    "skills_taught": ("教授的技能", "Skills taught"),
    "training_saved": ("培训已发布。", "The training is published."),
    # --- seeker: my data ---
    "data_title": ("我的数据", "My data"),
    "data_intro": (
        "您可以下载我们保存的关于您的全部信息，也可以删除您的全部数据。",
        "You can download everything we keep about you, or delete all your data.",
    ),
    "export_heading": ("下载我的数据", "Download my data"),
    "export_explain": (
        "下载一个 JSON 文件，里面是我们保存的关于您的全部信息。",
        "Download one JSON file with everything we keep about you.",
    ),
    "export_button": ("下载我的数据（JSON 文件）", "Download my data (JSON file)"),
    "delete_heading": ("删除我的数据", "Delete my data"),
    "delete_explain": (
        "删除后，您的资料、需求、同意和收藏都会被删除，账号会关闭，不能恢复。"
        "统计数字会保留，但不再能对应到您。",
        "Your profile, needs, consents and saved jobs are deleted and your account is "
        "closed. This cannot be undone. Counts are kept, but they no longer point to you.",
    ),
    "delete_start": ("我想删除我的数据", "I want to delete my data"),
    "delete_confirm_title": ("确认删除我的数据", "Confirm: delete my data"),
    "delete_confirm_label": ("请输入“删除”两个字确认", "Type DELETE to confirm"),
    "delete_confirm_word": ("删除", "DELETE"),
    "delete_button": ("永久删除我的数据", "Delete my data for good"),
    "deleted": (
        "您的数据已删除，账号已关闭。",
        "Your data is deleted and your account is closed.",
    ),
    # --- employer ---
    "organisation_title": ("单位资料", "Organisation profile"),
    "organisation_saved": ("单位资料已保存。", "The organisation profile is saved."),
    # --- employer: quota position ---
    "quota_title": ("按比例安排残疾人就业", "Quota position: employing disabled staff"),
    "quota_intro": (
        "单位应按比例安排残疾人就业。差多少人，就要缴纳残疾人就业保障金。"
        "下面是您单位现在的情况和计算过程。",
        "Employers must employ disabled staff at a set ratio. An employer that falls short "
        "pays the employment security fund. Here is where you stand, and how it is worked out.",
    ),
    "quota_summary_short": (
        "还差 {shortfall} 人。按现在的人数，应缴保障金 {amount} 元。",
        "You are {shortfall} people short. With these figures the fund due is {amount} yuan.",
    ),
    "quota_summary_meets": (
        "已达到安排比例，不需缴纳保障金。",
        "You meet the ratio. No fund is due.",
    ),
    "quota_summary_exempt": (
        "在职职工不超过 {n} 人，免缴保障金。",
        "You have {n} staff or fewer, so no fund is due.",
    ),
    "quota_position_heading": ("现在的情况", "Where you stand"),
    "quota_people": ("人", "people"),
    "quota_yuan": ("{amount} 元", "{amount} yuan"),
    "quota_staff": ("在职职工", "Staff"),
    "quota_disabled_people": ("残疾职工（人）", "Disabled staff (people)"),
    "quota_counted": (
        "残疾职工（折算，一、二级按规定多算）",
        "Disabled staff as counted (grade 1–2 count more)",
    ),
    "quota_ratio": ("规定比例", "Required ratio"),
    "quota_required": ("应安排", "Required"),
    "quota_shortfall": ("差额", "Shortfall"),
    "quota_own_ratio": ("您单位的比例", "Your own ratio"),
    "quota_fund_before": ("保障金（减免前）", "Fund before reductions"),
    "quota_pay_share": ("按此比例缴纳", "Share payable"),
    "quota_fund": ("应缴保障金", "Fund due"),
    "quota_hires_heading": ("通过本服务录用的人员", "People hired through this service"),
    "quota_hires_confirmed": ("已计入（在岗满 90 天）", "Counted (still employed at 90 days)"),
    "quota_hires_grade_1_2": (
        "其中按一、二级计算",
        "Of them, counted as grade 1–2",
    ),
    "quota_hires_awaiting": ("已录用，等待满 90 天", "Hired, waiting for 90 days"),
    "quota_hires_note": (
        "录用满 90 天后，在“收到的推荐”里记录“仍在岗”，就会计入。"
        "只有本人同意把残疾等级提供给您单位时，才按一、二级计算；否则按 1 人计算。",
        "A hire counts once you record on Referrals received that the person is still "
        "employed after 90 days. A hire counts as grade 1–2 only if the person agreed to "
        "share the grade with you; otherwise it counts as one.",
    ),
    "quota_working_heading": ("计算过程", "How it is worked out"),
    "quota_rules_heading": ("使用的规则", "The rules used"),
    "quota_figures_heading": ("修改人数", "Change your figures"),
    "quota_figures_intro": (
        "只填人数，不填姓名或其他个人信息。",
        "Give numbers only: no names or other personal details.",
    ),
    "quota_staff_field": ("在职职工人数", "Number of staff"),
    "quota_staff_hint": ("全部在职职工，包括残疾职工。", "All staff, disabled staff included."),
    "quota_grade_1_2_field": (
        "持一、二级残疾人证的职工人数",
        "Staff holding a grade 1 or 2 disability certificate",
    ),
    "quota_grade_3_4_field": (
        "持三、四级残疾人证的职工人数",
        "Staff holding a grade 3 or 4 disability certificate",
    ),
    "quota_declared_hint": (
        "不包括通过本服务录用的人员，他们会自动计入。",
        "Leave out people hired through this service: they are added for you.",
    ),
    "quota_save": ("保存人数", "Save figures"),
    "quota_saved": (
        "人数已保存，下面是新的计算结果。",
        "Figures saved. The position below is updated.",
    ),
    "err_count": ("请填写人数：0 或更大的整数。", "Enter a number of people: 0 or more."),
    "err_disabled_above_staff": (
        "残疾职工人数不能多于在职职工人数。",
        "Disabled staff cannot outnumber the staff.",
    ),
    "verified_status": ("核实状态：", "Verification:"),
    "verified_yes": ("已由职康中心核实", "Verified by a service centre"),
    "verified_no": ("尚未核实", "Not verified yet"),
    "no_organisation": (
        "您的账号没有关联单位。请联系职康中心。",
        "Your account has no organisation. Please contact a service centre.",
    ),
    "vacancies_title": ("我的岗位", "My vacancies"),
    "vacancy_new_title": ("发布岗位", "Post a vacancy"),
    "vacancy_edit_title": ("修改岗位：{title}", "Edit vacancy: {title}"),
    "vacancy_saved": ("岗位已保存。", "The vacancy is saved."),
    "vacancy_title": ("岗位名称", "Job title"),
    "vacancy_description": ("工作内容", "What the work is"),
    "required_skills": ("必需技能", "Required skills"),
    "optional_skills": ("加分技能", "Useful extra skills"),
    "lines_hint": ("每行写一项。", "One per line."),
    "work_place": ("工作地点", "Place of work"),
    "wage_min": ("最低月薪（元）", "Lowest monthly wage (yuan)"),
    "wage_max": ("最高月薪（元）", "Highest monthly wage (yuan)"),
    "openings": ("招聘人数", "Number of openings"),
    "expires_on": ("截止日期", "Closing date"),
    "expires_hint": ("格式：2026-12-31。不填表示长期有效。", "Format: 2026-12-31. Empty: no end."),
    "status": ("状态", "Status"),
    "status_draft": ("草稿（不公开）", "Draft (not public)"),
    "status_open": ("公开招聘", "Open"),
    "status_closed": ("已关闭", "Closed"),
    "status_filled": ("已招满", "Filled"),
    "offers_title": ("工作场所的无障碍条件和便利", "Workplace accessibility and accommodations"),
    "offers_intro": (
        "为每一项选择您的工作场所能否提供。如实填写：职康中心会核实。",
        "For each one, say whether your workplace provides it. Be accurate: the service "
        "centres check.",
    ),
    "offer_none": ("不提供", "Not provided"),
    "offer_available": ("现在就有", "Available now"),
    "offer_arrangeable": ("可以安排", "Can be arranged"),
    "edit": ("修改", "Edit"),
    "candidates": ("候选人", "Candidates"),
    "candidates_title": ("候选人：{title}", "Candidates: {title}"),
    "candidates_intro": (
        "按匹配程度排序。为保护隐私，候选人用代号表示，不显示姓名和联系方式。",
        "Sorted by match. To protect privacy, candidates are shown by a code name, "
        "without name or contact details.",
    ),
    "candidate": ("候选人 {code}", "Candidate {code}"),
    "no_vacancies": ("您还没有发布岗位。", "You have not posted a vacancy yet."),
    "no_candidates": ("暂时没有合适的候选人。", "No suitable candidates right now."),
    # --- caseworker ---
    "centre_seekers_title": ("本中心求职者", "Our centre's seekers"),
    "centre_seekers_intro": (
        "在本中心登记的求职者，最新的在前。",
        "Job seekers registered with your centre, newest first.",
    ),
    "seeker_skills": ("技能：", "Skills:"),
    "seeker_needs_count": ("便利需求：{n} 项", "Accommodation needs: {n}"),
    "centre_trainings_title": ("本中心培训", "Our centre's trainings"),
    # --- admin ---
    "accommodations_title": ("便利措施目录", "Accommodation list"),
    "accommodations_intro": (
        "求职者的需求和岗位的条件都用这份目录。停用的项目不能再被新选择。",
        "Seekers' needs and workplaces' offers use this list. Retired items cannot be "
        "chosen again.",
    ),
    "code": ("代码", "Code"),
    "code_hint": ("小写英文字母、数字和下划线。", "Lower-case letters, digits and underscores."),
    "group": ("类别", "Group"),
    "label_zh": ("中文名称", "Chinese name"),
    "label_en": ("英文名称", "English name"),
    "description_zh": ("中文说明", "Chinese explanation"),
    "description_en": ("英文说明", "English explanation"),
    "health_related": ("涉及健康信息", "Says something about health"),
    "active": ("使用中", "In use"),
    "retired": ("已停用", "Retired"),
    "retire": ("停用", "Retire"),
    "add_accommodation": ("新增便利措施", "Add an accommodation"),
    "accommodation_saved": ("便利措施已保存。", "The accommodation is saved."),
    "accommodation_retired": ("已停用。", "It is retired."),
    "edit_accommodation": ("修改：{label}", "Edit: {label}"),
    "centres_title": ("职康中心", "Service centres"),
    "accounts_title": ("账号", "Accounts"),
    "add_staff": ("新增工作人员账号", "Add a staff account"),
    "role_caseworker": ("就业服务专员", "caseworker"),
    "role_admin": ("区残联管理员", "federation admin"),
    "role_volunteer": ("无障碍监督员", "accessibility volunteer"),
    "role_seeker_name": ("求职者", "job seeker"),
    "account_saved": ("账号已创建。", "The account is created."),
    "disable": ("停用账号", "Disable account"),
    "account_disabled": ("账号已停用。", "The account is disabled."),
    "active_account": ("状态", "Status"),
    "name": ("名称", "Name"),
    # --- enums ---
    "mode_on_site": ("到单位上班", "On site"),
    "mode_hybrid": ("部分远程", "Hybrid"),
    "mode_remote": ("远程", "Remote"),
    "schedule_full_time": ("全职", "Full time"),
    "schedule_part_time": ("非全日制", "Part time"),
    "schedule_flexible": ("弹性", "Flexible"),
    "schedule_any": ("都可以", "Any"),
    "lang_zh": ("中文", "Chinese"),
    "lang_en": ("英文", "English"),
    "group_access": ("进出和行动", "Getting in and around"),
    "group_workstation": ("工位", "Workstation"),
    "group_vision": ("视力", "Seeing"),
    "group_hearing": ("听力", "Hearing"),
    "group_speech": ("言语", "Speaking"),
    "group_cognitive": ("理解和学习", "Understanding and learning"),
    "group_mental_health": ("心理健康", "Mental health"),
    "group_schedule_place": ("时间和地点", "Time and place"),
    "group_hiring_process": ("招聘过程", "Hiring process"),
    "purpose_sensitive_profile": ("残疾信息", "Disability information"),
    "purpose_health_needs": ("与健康有关的需求", "Needs about health"),
    # --- messages (the in-app inbox) ---
    "nav_inbox": ("消息", "Messages"),
    "inbox_link": ("消息（{n} 条未读）", "Messages ({n} unread)"),
    "inbox_title": ("我的消息", "My messages"),
    "inbox_intro": (
        "这里是系统发给您的全部推送，最新的在最前面。每条都说明了为什么发给您、怎样停止。",
        "Here are all the messages the service sent you, newest first. "
        "Each one says why you got it and how to stop such messages.",
    ),
    "inbox_count": ("共 {total} 条，其中 {unread} 条未读。", "{total} in all, {unread} unread."),
    "inbox_empty": ("还没有消息。", "No messages yet."),
    "inbox_unread_only": ("只看未读消息", "Show unread messages only"),
    "inbox_show_all": ("查看全部消息", "Show all messages"),
    "inbox_unread_tag": ("未读", "Unread"),
    "inbox_read_tag": ("已读", "Read"),
    "inbox_sent_at": ("发送时间：{at}", "Sent: {at}"),
    "inbox_read_at": ("已读时间：{at}", "Read: {at}"),
    "mark_read": ("标为已读", "Mark as read"),
    "mark_unread": ("标为未读", "Mark as unread"),
    "marked_read": ("已标为已读。", "Marked as read."),
    "marked_unread": ("已标为未读。", "Marked as unread."),
    "back_to_inbox": ("回到消息列表", "Back to my messages"),
    "message_content": ("内容", "What it says"),
    "message_why": ("为什么发给您", "Why you got this"),
    "message_how_stop": ("怎样停止", "How to stop"),
    "message_stop_text": (
        "您可以在“推送设置”里改成每周一次、只在站内消息里收，或者关掉某一类推送。"
        "也可以点下面的按钮，一步停止全部推送。已经收到的消息会留在这里。",
        "You can change how often and where you get messages, or turn one kind off, in your "
        "notification settings. Or press the button below to stop all messages in one step. "
        "Messages you already got stay here.",
    ),
    "message_stop_reminder": ("提醒类消息没有原因说明。", "This reminder has no reason text."),
    "kind_digest": ("岗位推荐", "Job recommendations"),
    "kind_training_offer": ("培训推荐", "Training offer"),
    "kind_referral_reminder": ("待办提醒", "Reminder"),
    "kind_employer_digest": ("新候选人", "New candidates"),
    "kind_posting_expired": ("岗位到期", "Vacancy closed"),
    # --- notification settings ---
    "nav_push_settings": ("推送设置", "Notification settings"),
    "push_title": ("推送设置", "Notification settings"),
    "push_intro": (
        "系统会把适合您的岗位和培训发给您。您来决定：要不要收、多久收一次、在哪里收。",
        "The service can send you jobs and trainings that suit you. You decide: whether you "
        "get them, how often, and where.",
    ),
    "push_stop_heading": ("一步停止全部推送", "Stop all messages in one step"),
    "push_stop_explain": (
        "按下这个按钮后，系统不再给您发送任何推送（站内、邮件都不发）。"
        "这是您的权利（《个人信息保护法》第二十四条），不影响您使用其他功能。"
        "以后想再收，在下面选“要”并保存即可。",
        "After you press this button, the service sends you no messages at all (not in the "
        "site, not by e-mail). This is your right (Personal Information Protection Law, "
        "Article 24). Everything else keeps working. To get messages again later, choose "
        '"Yes" below and save.',
    ),
    "push_stop_button": ("停止全部推送", "Stop all messages"),
    "push_stopped": ("已停止全部推送。", "All messages are stopped."),
    "stop_link_title": ("停止全部推送", "Stop all messages"),
    "stop_link_intro": (
        "点下面的按钮，我们就不再给这个账号发送任何推送。已经收到的消息会保留。"
        "以后想再收到，可以登录后在“推送设置”里打开。",
        "Press the button below and this account gets no more messages from us. Messages "
        "you already have stay. To get them again later, log in and open the notification "
        "settings.",
    ),
    "stop_link_button": ("停止全部推送", "Stop all messages"),
    "stop_link_invalid": (
        "这个链接无效或已经不完整。请登录后在“推送设置”里停止推送。",
        "This link is not valid or is incomplete. Log in and stop messages in the "
        "notification settings.",
    ),
    "push_status_on": ("现在：推送已开启。", "Now: messages are on."),
    "push_status_off": (
        "现在：全部推送已停止。系统不会给您发任何推送。",
        "Now: all messages are stopped. The service sends you nothing.",
    ),
    "push_saved": ("推送设置已保存。", "Your notification settings are saved."),
    "push_form_heading": ("详细设置", "Detailed settings"),
    "push_enabled": ("要不要收推送？", "Do you want messages?"),
    "push_enabled_yes": ("要", "Yes"),
    "push_enabled_no": ("不要（停止全部推送）", "No (stop all messages)"),
    "push_frequency": ("岗位推荐多久发一次？", "How often should we send job recommendations?"),
    "push_frequency_hint": (
        "每次推荐只包括上次之后新出现的岗位。",
        "Each time, you get only jobs that are new since the last time.",
    ),
    "frequency_daily": ("每天一次", "Once a day"),
    "frequency_weekly": ("每周一次", "Once a week"),
    "frequency_off": ("不要岗位推荐", "No job recommendations"),
    "push_channels": ("还在哪里收？", "Where else should we send them?"),
    "push_channels_hint": (
        "站内消息一直都有，不用选。下面是另外的方式。",
        "Messages on this site are always on; you do not need to choose them. "
        "These are extra ways.",
    ),
    "push_channels_none": (
        "站内消息一直都有。本服务暂时没有开通邮件或其他方式。",
        "Messages on this site are always on. This service offers no e-mail or other way yet.",
    ),
    "channel_email": ("电子邮件（发到您注册的邮箱）", "E-mail (to the address you registered)"),
    "channel_webhook": (
        "本中心的消息系统（由中心转给您）",
        "Your centre's message system (the centre passes it on)",
    ),
    "push_quiet": ("免打扰时间", "Quiet hours"),
    "push_quiet_hint": (
        "这段时间里不发邮件，等到结束再发。站内消息照常出现。用 24 小时制，例如 22:00 到 07:00。"
        "两项都不填就是没有免打扰时间。时区：{zone}。",
        "In these hours no e-mail is sent; it waits until they end. Messages on this site "
        "still appear. Use the 24-hour clock, for example 22:00 to 07:00. Leave both empty "
        "for no quiet hours. Time zone: {zone}.",
    ),
    "quiet_start": ("开始时间", "From"),
    "quiet_end": ("结束时间", "To"),
    "push_min_score": ("最低匹配度（百分比）", "Lowest match (per cent)"),
    "push_min_score_hint": (
        "只推荐匹配度不低于这个数的岗位。填 0 到 100 之间的整数，例如 50。"
        "数越大，推荐越少但越合适。",
        "Only jobs that match at least this much. Enter a whole number from 0 to 100, for "
        "example 50. A higher number means fewer, closer matches.",
    ),
    "push_trainings": ("要不要培训推荐？", "Do you want training offers?"),
    "push_trainings_hint": (
        "当某个培训能补上您差一点就能匹配的岗位所缺的技能时，告诉您。",
        "We tell you when a training teaches skills you lack for jobs you nearly match.",
    ),
    "push_save": ("保存推送设置", "Save notification settings"),
    "err_time": ("请用 24 小时制，例如 22:00。", "Use the 24-hour clock, for example 22:00."),
    "err_quiet_both": (
        "请把开始和结束时间都填上，或者都不填。",
        "Fill in both times, or leave both empty.",
    ),
    "err_quiet_same": ("开始和结束时间不能一样。", "The two times must not be the same."),
    "err_percent": ("请填 0 到 100 之间的数。", "Enter a number from 0 to 100."),
    # --- who read my data ---
    "access_log_title": ("谁看过我的信息", "Who read my data"),
    "access_log_link": ("查看谁看过我的信息", "See who read my data"),
    "access_log_intro": (
        "工作人员查看您的残疾信息、或导出您的数据时，系统都会记下来：谁（什么身份）、什么时候、"
        "为什么。您自己查看的不算在内。",
        "Every time staff read your disability information or export your data, the service "
        "writes it down: who (their role), when, and why. Your own reads are not listed.",
    ),
    "access_log_empty": ("还没有人看过。", "Nobody has read it yet."),
    "access_log_caption": (
        "查看记录，最新的在最前面",
        "Reads of your data, newest first",
    ),
    "access_when": ("时间", "When"),
    "access_who": ("谁", "Who"),
    "access_what": ("做了什么", "What they did"),
    "access_why": ("原因", "Why"),
    "access_no_reason": ("（没有写原因）", "(no reason given)"),
    "action_sensitive_read": ("查看了残疾信息", "Read your disability information"),
    "action_break_glass": (
        "紧急查看了您的全部资料",
        "Opened your whole record in an emergency",
    ),
    "action_export": ("导出了您的数据", "Exported your data"),
    # --- referrals (seekers) ---
    "nav_referrals": ("我的推荐", "My referrals"),
    "ask_referral": ("申请推荐", "Ask for a referral"),
    "referrals_title": ("我的推荐", "My referrals"),
    "referrals_intro": (
        "这里是您申请过的推荐，以及每一个现在到了哪一步。",
        "Here are the referrals you asked for, and where each one is now.",
    ),
    "referral_requested": (
        "推荐申请已提交。",
        "Your referral request is sent.",
    ),
    "referral_consent_title": ("申请推荐：{title}", "Ask for a referral: {title}"),
    "referral_consent_intro": (
        "推荐会把您的一些信息交给这个用人单位。先看清楚会交出哪些信息，再决定是否同意。",
        "A referral gives this employer some of your details. Check exactly which ones, "
        "then decide whether you agree.",
    ),
    "referral_fields_heading": (
        "用人单位会收到的信息（就是下面这些）",
        "What the employer will receive (exactly this)",
    ),
    "referral_no_needs": ("没有与这个岗位有关的需求", "No needs that matter for this job"),
    "referral_not_shared": (
        "除此之外的信息都不会交出。推荐被批准并发出后，用人单位才看得到。",
        "Nothing else is shared. The employer sees this only after the referral is approved "
        "and sent.",
    ),
    "referral_optional": ("还要提供这些吗？", "Also share these?"),
    "referral_optional_hint": (
        "不勾就不提供。勾选后，请按“更新预览”看看用人单位会看到什么。",
        'Not ticked means not shared. After ticking, press "Update the preview" to see '
        "what the employer would see.",
    ),
    "referral_update_preview": ("更新预览", "Update the preview"),
    "referral_consent_text": ("同意书", "Consent"),
    "referral_agree_legend": ("您同意吗？", "Do you agree?"),
    "referral_agree": ("我同意按上面的内容提供信息", "I agree to share the details above"),
    "referral_send": ("同意并申请推荐", "Agree and ask for the referral"),
    "err_agree": ("请勾选“我同意”，或者不申请。", 'Tick "I agree", or do not ask.'),
    "referral_already": (
        "这份推荐已经提交过了。到“我的推荐”看它的进展。",
        'This referral was already sent. See its progress in "My referrals".',
    ),
    "referral_continue": ("继续：查看并同意", "Continue: check and agree"),
    "referral_status_line": ("状态：{status}", "Status: {status}"),
    "referral_updated": ("最后更新：{at}", "Last change: {at}"),
    "referral_status_proposed": ("还没同意", "Waiting for your consent"),
    "referral_status_pending": ("等待审核", "Waiting for review"),
    "referral_status_approved": ("已批准", "Approved"),
    "referral_status_rejected": ("未批准", "Not approved"),
    "referral_status_sent": ("已发给用人单位", "Sent to the employer"),
    "referral_status_interviewing": ("面试中", "Interviewing"),
    "referral_status_hired": ("已录用", "Hired"),
    "referral_status_not_hired": ("未录用", "Not hired"),
    "referral_status_withdrawn": ("已撤回", "Withdrawn"),
    "referral_status_retained_90d": ("已工作满 90 天", "Still employed after 90 days"),
    "referral_explain_proposed": (
        "您还没有同意提供信息，所以什么都没有交出。",
        "You have not agreed yet, so nothing has been shared.",
    ),
    "referral_explain_pending": (
        "您的职康中心会在两个工作日内审核。",
        "Your centre reviews it within two working days.",
    ),
    "referral_explain_approved": (
        "已批准，很快会发给用人单位。",
        "Approved; it goes to the employer soon.",
    ),
    "referral_explain_rejected": (
        "这次没有批准。可以问问您的职康中心原因。",
        "It was not approved this time. Your centre can tell you why.",
    ),
    "referral_explain_sent": (
        "用人单位已收到您同意提供的信息。",
        "The employer has the details you agreed to share.",
    ),
    "referral_explain_interviewing": ("用人单位在安排面试。", "The employer is interviewing."),
    "referral_explain_hired": ("恭喜，您被录用了。", "Congratulations, you were hired."),
    "referral_explain_not_hired": ("这次没有被录用。", "You were not hired this time."),
    "referral_explain_withdrawn": ("这份推荐已撤回。", "This referral was withdrawn."),
    "referral_explain_retained_90d": ("您已工作满 90 天。", "You have worked there 90 days."),
    # --- referrals (caseworkers and employers) ---
    "nav_queue": ("待审核的推荐", "Referrals to review"),
    "nav_received": ("收到的推荐", "Referrals received"),
    "queue_title": ("待审核的推荐", "Referrals to review"),
    "queue_intro": (
        "这些推荐没能自动批准，需要您审核。最早提交的在最前面。",
        "These referrals were not approved automatically and wait for you. Oldest first.",
    ),
    "queue_count": ("共 {n} 份待审核。", "{n} waiting."),
    "queue_seeker": ("求职者：", "Job seeker:"),
    "queue_waiting_since": ("提交时间：{at}", "Submitted: {at}"),
    "queue_failed": ("没通过的自动批准条件：{n} 条", "Automatic-approval rules not met: {n}"),
    "queue_open": ("审核", "Review"),
    "deadline_none": ("没有审核期限", "No review deadline"),
    "deadline_overdue": ("已超期：应在 {at} 前审核", "Overdue: was due by {at}"),
    "deadline_today": ("今天到期：{at} 前", "Due today, by {at}"),
    "deadline_tomorrow": ("明天到期：{at} 前", "Due tomorrow, by {at}"),
    "deadline_in_days": ("{n} 天后到期：{at} 前", "Due in {n} days, by {at}"),
    "deadline_label": ("审核期限：", "Review deadline:"),
    "review_title": ("审核推荐：{title}", "Review a referral: {title}"),
    "review_match": ("匹配情况", "How well it matches"),
    "review_no_match": (
        "这个岗位现在不在该求职者的匹配结果里。",
        "This job is not among the seeker's matches now.",
    ),
    "review_status": ("状态：", "Status:"),
    "review_skills_have": ("求职者具备的技能：", "Skills the seeker has:"),
    "review_skills_lack": ("求职者还缺的技能：", "Skills the seeker lacks:"),
    "review_failed": ("为什么没有自动批准", "Why it was not approved automatically"),
    "review_failed_none": ("所有自动批准条件都满足。", "Every automatic-approval rule was met."),
    "review_history": ("经过", "History"),
    "history_when": ("时间", "When"),
    "history_from": ("原来", "From"),
    "history_to": ("变为", "To"),
    "history_who": ("操作人", "By"),
    "history_reason": ("说明", "Note"),
    "actor_seeker": ("求职者", "job seeker"),
    "actor_caseworker": ("就业服务专员", "caseworker"),
    "actor_employer": ("用人单位", "employer"),
    "actor_admin": ("管理员", "admin"),
    "actor_system": ("系统自动", "the system"),
    "review_decide": ("您的决定", "Your decision"),
    "approve_heading": ("批准", "Approve"),
    "approve_reason": ("备注", "Note"),
    "approve_button": ("批准这份推荐", "Approve this referral"),
    "reject_heading": ("不批准", "Reject"),
    "reject_reason": ("不批准的原因", "Why it is rejected"),
    "reject_reason_hint": (
        "求职者会看到这个原因。请写清楚，用简单的话。",
        "The job seeker will read this. Say it plainly.",
    ),
    "reject_button": ("不批准", "Reject this referral"),
    "reject_kind": ("原因属于", "The reason is"),
    "reject_kind_hint": (
        "只有“岗位不适合这位求职者”会用来改进推荐排序。",
        "Only 'the job does not suit this seeker' is used to improve how matches are ranked.",
    ),
    "reject_kind_not_suitable": ("岗位不适合这位求职者", "the job does not suit this seeker"),
    "reject_kind_rule": ("不符合批准规则", "an approval rule is not met"),
    "reject_kind_other": ("其他", "something else"),
    "send_heading": ("发给用人单位", "Send to the employer"),
    "send_intro": (
        "推荐已批准。发出后，用人单位可以看到求职者同意提供的信息。",
        "The referral is approved. Once sent, the employer sees the details the seeker agreed "
        "to share.",
    ),
    "send_button": ("发给用人单位", "Send to the employer"),
    "review_closed": ("这份推荐不需要您再处理。", "Nothing more for you to do here."),
    "referral_approved": ("已批准这份推荐。", "The referral is approved."),
    "referral_rejected": (
        "已不批准这份推荐，求职者会收到通知。",
        "The referral is rejected; the seeker is told.",
    ),
    "referral_sent": ("推荐已发给用人单位。", "The referral is sent to the employer."),
    "err_reject_reason": ("请写明不批准的原因。", "Write why the referral is rejected."),
    "err_referral_changed": (
        "这份推荐已被别人处理或已变化。下面是现在的情况。",
        "Someone else changed this referral. This is how it is now.",
    ),
    "rule_failed_essential_needs_met": (
        "岗位没有提供求职者必需的某项便利。",
        "The job does not provide a need the seeker must have.",
    ),
    "rule_failed_employer_verified": (
        "用人单位还没有通过核实。",
        "The employer is not verified yet.",
    ),
    "rule_failed_seeker_consented": (
        "求职者还没有同意提供信息。",
        "The seeker has not agreed to share their details.",
    ),
    "rule_failed_profile_complete": (
        "求职者的资料还不完整。",
        "The seeker's profile is not complete.",
    ),
    "rule_failed_posting_open": (
        "岗位已关闭或已过期。",
        "The job is closed or has expired.",
    ),
    "rule_failed_max_open_referrals": (
        "求职者同时进行的推荐太多。",
        "The seeker has too many referrals open at once.",
    ),
    "received_title": ("收到的推荐", "Referrals received"),
    "received_intro": (
        "这些求职者经本人同意，推荐到您的岗位。请记录面试和录用结果。",
        "These job seekers agreed to be referred to your jobs. Please record interviews "
        "and outcomes.",
    ),
    "received_job": ("岗位：", "Job:"),
    "received_candidate": ("求职者：", "Candidate:"),
    "received_open": ("查看", "Open"),
    "received_one_title": ("推荐：{title}", "Referral: {title}"),
    "received_fields": ("求职者同意提供的信息", "What the seeker agreed to share"),
    "received_nothing_shared": (
        "求职者没有提供信息，或已撤回同意。",
        "The seeker shares nothing, or withdrew their consent.",
    ),
    "received_invited": ("这是您邀请的求职者。", "You invited this candidate."),
    "offer_missing": ("岗位不提供", "Not offered"),
    "next_steps": ("记录结果", "Record what happened"),
    "no_steps": ("这份推荐没有需要您记录的事。", "Nothing to record for this referral."),
    "interview_heading": ("已面试或已约面试", "Interview"),
    "interview_at": ("面试时间", "Interview date and time"),
    "interview_at_hint": (
        "例如 2026-12-01 14:30。可以不填。",
        "For example 2026-12-01 14:30. You may leave it empty.",
    ),
    "interview_note": ("备注", "Note"),
    "interview_button": ("记录面试", "Record the interview"),
    "hire_heading": ("录用", "Hired"),
    "start_date": ("上岗日期", "Start date"),
    "hire_note": ("备注", "Note"),
    "hire_button": ("记录录用", "Record the hire"),
    "not_hired_heading": ("未录用", "Not hired"),
    "not_hired_reason": ("原因", "Reason"),
    "not_hired_text": ("说明", "Explanation"),
    "not_hired_text_hint": ("原因选“其他”时必须填写。", "Required when the reason is “Other”."),
    "not_hired_button": ("记录未录用", "Record: not hired"),
    "not_hired_skills_mismatch": ("技能不符合", "Skills do not fit"),
    "not_hired_position_filled": ("岗位已招满", "The position is filled"),
    "not_hired_candidate_declined": ("求职者放弃", "The candidate declined"),
    "not_hired_no_show": ("求职者没来面试", "The candidate did not come"),
    "not_hired_accommodation_not_possible": (
        "无法提供所需便利",
        "The accommodation needed is not possible",
    ),
    "not_hired_other": ("其他", "Other"),
    "retained_heading": ("工作满 90 天", "Still employed after 90 days"),
    "retained_intro": (
        "从上岗日期起满 90 天后，可以记录。",
        "You can record this from 90 days after the start date.",
    ),
    "retained_note": ("备注", "Note"),
    "retained_button": ("记录已满 90 天", "Record: still employed"),
    "outcome_interview": ("已记录面试。", "The interview is recorded."),
    "outcome_hire": ("已记录录用。", "The hire is recorded."),
    "outcome_not_hired": ("已记录未录用。", "Not hired is recorded."),
    "outcome_retained": ("已记录工作满 90 天。", "Still employed at 90 days is recorded."),
    "err_not_hired_text": ("原因选“其他”时，请写明原因。", "Say why when the reason is “Other”."),
    "err_retention_early": ("{on} 起才能记录。", "You can record this from {on}."),
    "err_start_date_range": (
        "上岗日期要在两年前到一年后之间。",
        "The start date must be within two years back and one year ahead.",
    ),
    "access_log_help": (
        "如果您觉得某次查看不应该发生，请联系您的职康中心或区残联。",
        "If you think a read should not have happened, contact your centre or the federation.",
    ),
}

# Plain explanations of the seeded accommodation codes, used where the vocabulary row has
# no description of its own.
ACCOMMODATION_EXPLANATIONS: Final[Mapping[str, tuple[str, str]]] = {
    "step_free_entrance": (
        "进门不用上台阶，轮椅能直接进。",
        "No steps at the door; a wheelchair gets in.",
    ),
    "lift": ("楼层之间有电梯。", "There is a lift between floors."),
    "accessible_restroom": ("有轮椅能用的卫生间。", "A toilet that a wheelchair user can use."),
    "accessible_parking": ("单位附近有无障碍停车位。", "Accessible parking close to work."),
    "short_walking_distances": ("工作中不用走很远的路。", "The work needs little walking."),
    "accessible_transit_nearby": (
        "附近有无障碍的公交或地铁站。",
        "An accessible bus or metro stop nearby.",
    ),
    "height_adjustable_desk": ("桌子可以调高调低。", "A desk that moves up and down."),
    "alternative_input_devices": (
        "可以用特殊的键盘、鼠标或其他输入方式。",
        "A special keyboard, mouse or other way to type and point.",
    ),
    "ergonomic_seating": ("舒适、可调节的椅子。", "A comfortable, adjustable chair."),
    "screen_reader_software": (
        "工作用的软件能配合读屏软件使用。",
        "Work software that works with a screen reader.",
    ),
    "screen_magnification": ("可以放大屏幕上的内容。", "You can make the screen larger."),
    "braille_large_print": ("材料有盲文版或大字版。", "Papers in braille or large print."),
    "accessible_documents": (
        "文件能被读屏软件读出来。",
        "Documents that a screen reader can read.",
    ),
    "sign_language_interpreter": ("开会时有手语翻译。", "A sign-language interpreter at meetings."),
    "live_captioning": ("说话内容实时显示成文字。", "Speech shown as text as it is spoken."),
    "visual_vibrating_alarms": (
        "火警等警报会闪光或振动。",
        "Fire and other alarms that flash or vibrate.",
    ),
    "text_instead_of_phone": ("用文字联系，不用打电话。", "Contact in writing, not by phone."),
    "chat_instead_of_phone": ("用文字或聊天工具代替电话。", "Text or chat instead of phone calls."),
    "aac_device_support": (
        "可以使用辅助沟通设备说话。",
        "You may use a device that speaks for you (AAC).",
    ),
    "written_instructions": ("工作步骤写下来，一步一步。", "Work steps written down, one by one."),
    "job_coach": ("有就业辅导员在工作中帮助您。", "A job coach helps you at work."),
    "extra_training_time": ("学习新工作时可以多用些时间。", "More time to learn the job."),
    "predictable_routine": (
        "每天的工作安排固定，少有意外。",
        "A fixed daily routine with few surprises.",
    ),
    "flexible_schedule": ("可以调整上下班时间。", "You can change your working times."),
    "quiet_workspace": ("安静、少干扰的地方工作。", "A quiet place to work."),
    "extra_breaks": ("可以多休息几次。", "You may take more breaks."),
    "leave_for_treatment": ("可以请假去看病或治疗。", "Time off for treatment."),
    "part_time": ("每天或每周工作时间较短。", "Fewer hours a day or week."),
    "flexible_hours": ("上下班时间可以灵活。", "Start and end times can vary."),
    "remote_work": ("在家工作。", "Work from home."),
    "hybrid_work": ("有时在家，有时在单位。", "Sometimes at home, sometimes at work."),
    "interview_with_interpreter": (
        "面试时有手语翻译。",
        "A sign-language interpreter at the interview.",
    ),
    "questions_in_advance": ("面试前拿到问题。", "Get the interview questions beforehand."),
    "alternative_test_formats": (
        "测试可以换一种方式，例如口头或大字。",
        "Tests in another form, such as spoken or large print.",
    ),
}

TEXTS: Final[Mapping[str, tuple[str, str]]] = {**_CORE_TEXTS, **ADMIN_TEXTS}

# Service messages (English, from api.services and pydantic validators) shown next to a field,
# mapped to a text key; anything else is shown as it came, with the generic message.
SERVICE_MESSAGES: Final[Mapping[str, str]] = {
    "an account with this email already exists": "err_email_taken",
    "an employer with this unified social credit code exists": "err_uscc_taken",
    "not an 18-character unified social credit code": "err_uscc",
    "the check character of this credit code is wrong": "err_uscc",
    "this password is too common or too easy to guess; try a longer phrase": "err_weak_password",
    "at most 128 characters": "err_too_long",
    "wage_min is above wage_max": "err_wage_order",
    "ends_on is before starts_on": "err_dates_order",
    "expires_at is in the past": "err_past",
    "the record was changed since you read it": "err_stale",
    "give a number, 0 or more": "err_count",
    "disabled staff cannot outnumber the staff": "err_disabled_above_staff",
    "choose your service centre": "err_choose",
    'use 24-hour local time "HH:MM", e.g. "22:00"': "err_time",
    "give both quiet_start and quiet_end, or neither": "err_quiet_both",
    "quiet hours must not start and end at the same time": "err_quiet_same",
}


def normalise(lang: str | None) -> str:
    """A supported language code; the default for anything else."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def text(lang: str, key: str, **values: object) -> str:
    """The text for key in lang, with {placeholders} filled; KeyError for unknown keys."""
    zh, en = TEXTS[key]
    template = en if lang == "en" else zh
    return template.format(**values) if values else template


class Translator:
    """`t("key", **values)` for one language, handed to templates."""

    def __init__(self, lang: str) -> None:
        self.lang = normalise(lang)

    def __call__(self, key: str, **values: object) -> str:
        return text(self.lang, key, **values)

    def has(self, key: str) -> bool:
        return key in TEXTS

    def pick(self, zh: str, en: str) -> str:
        """One of two stored labels (vocabulary, centres), falling back to the other."""
        return (en or zh) if self.lang == "en" else (zh or en)

    def explain(self, code: str, description_zh: str = "", description_en: str = "") -> str:
        """The plain explanation of an accommodation code."""
        own = self.pick(description_zh, description_en)
        if own:
            return own
        pair = ACCOMMODATION_EXPLANATIONS.get(code)
        if pair is None:
            return ""
        return pair[1] if self.lang == "en" else pair[0]
