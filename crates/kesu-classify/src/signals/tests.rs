use super::*;

fn fired(text: &str) -> Vec<Signal> {
    detect(
        text,
        Channel::Phone,
        History::default(),
        &SignalConfig::default(),
    )
    .into_iter()
    .map(|h| h.signal)
    .collect()
}

fn fires(text: &str, signal: Signal) {
    assert!(
        fired(text).contains(&signal),
        "{signal} should fire on {text:?}, got {:?}",
        fired(text)
    );
}

fn silent(text: &str, signal: Signal) {
    assert!(
        !fired(text).contains(&signal),
        "{signal} should not fire on {text:?}"
    );
}

#[test]
fn compensation_fires_on_a_demand_beyond_a_refund() {
    fires(
        "鞋子穿两天就开胶了，要求退货并赔偿我的损失",
        Signal::Compensation,
    );
    fires("按消法退一赔三", Signal::Compensation);
    fires("光退款不够 必须给我补偿", Signal::Compensation);
    fires("要求店里承担全部医药费", Signal::Compensation);
    fires("请贵公司承担维修费用", Signal::Compensation);
    fires("要求减免三个月物业费", Signal::Compensation);
    fires("再不赔偿我就去法院", Signal::Compensation);
    fires("店里说一分钱都不赔，我要求赔偿", Signal::Compensation);
}

#[test]
fn compensation_is_silent_when_declined_or_only_a_refund() {
    silent("我不要赔偿，只要道歉", Signal::Compensation);
    silent("她不要什么赔偿，就想把钱退了", Signal::Compensation);
    silent("不需要赔偿，只要把过期商品下架", Signal::Compensation);
    silent("赔偿就算了，把钱退我就行", Signal::Compensation);
    silent("要求退货退款，退差价19.9元", Signal::Compensation);
    silent("车险理赔迟迟不到账", Signal::Compensation);
    silent(
        "上周投诉的面包问题超市已经处理并赔偿了，这次是来表扬的",
        Signal::Compensation,
    );
    silent("上下班耽误工作了", Signal::Compensation);
}

#[test]
fn safety_fires_on_harm_or_a_real_hazard() {
    fires("孩子吃了以后上吐下泻，送去医院挂了水", Signal::Safety);
    fires("台阶坏了，我母亲被绊倒摔伤了膝盖", Signal::Safety);
    fires("高速上刹车突然失灵，差点出事", Signal::Safety);
    fires("行驶中方向盘突然锁死", Signal::Safety);
    fires("楼道里闻到燃气味，担心出事", Signal::Safety);
    fires("充电宝充电的时候冒烟了", Signal::Safety);
    fires("冷柜漏电，拿东西被电了一下", Signal::Safety);
}

#[test]
fn safety_is_silent_on_figures_of_speech_and_no_harm() {
    silent("吓死我了 热汤从孩子头顶过 好在没洒", Signal::Safety);
    silent("厕所脏得一进去就想吐", Signal::Safety);
    silent("面包里吃出一根头发，恶心得不行", Signal::Safety);
    silent("他摔了一下没受伤，就是想提醒你们", Signal::Safety);
    silent("遥控器失灵了", Signal::Safety);
    silent("天天有植发医院打电话给我", Signal::Safety);
}

#[test]
fn large_loss_reads_amounts_against_the_threshold() {
    fires("花了1.2w买的电脑", Signal::LargeLoss);
    fires("报了个5k的班", Signal::LargeLoss);
    fires("一共损失三万块", Signal::LargeLoss);
    fires("交了一万六的学费", Signal::LargeLoss);
    silent("刹车盘花了4980元", Signal::LargeLoss);
    silent("开了3000多公里", Signal::LargeLoss);
    silent("订单号20241009123456到现在没发货", Signal::LargeLoss);
    silent(
        "用了七八年了，这些年少说也花了十几万，这次是一个299的电饭煲",
        Signal::LargeLoss,
    );
    let strict = SignalConfig {
        large_loss_threshold: 1_000.0,
    };
    let hits = detect("多收了两千五", Channel::Phone, History::default(), &strict);
    assert_eq!(
        hits.first().map(|h| (h.signal, h.phrase.as_str())),
        Some((Signal::LargeLoss, "两千五"))
    );
}

#[test]
fn repeat_fault_needs_a_count_or_a_refusal() {
    fires("两个月里回来修了三次，还是响", Signal::RepeatFault);
    fires("这是我第三次投诉同一个问题了", Signal::RepeatFault);
    fires("又响了！！！第三次了 我不要再修了", Signal::RepeatFault);
    fires("问题反复出现，修了好几次", Signal::RepeatFault);
    fires("修好没几天又坏了，我不接受再修", Signal::RepeatFault);
    fires("客服电话打了八次，每次都说在处理", Signal::RepeatFault);
    fires(
        "8月份补过一次，9月底又补过一次，一下雨又漏",
        Signal::RepeatFault,
    );
    silent("电梯刚修完又坏了 修了个寂寞", Signal::RepeatFault);
    silent("已经来修过一次了，希望这次能彻底修好", Signal::RepeatFault);
    silent("你们这是第几次了", Signal::RepeatFault);
    silent("中间问了三次都说马上好", Signal::RepeatFault);
    silent("一天打三四次推销电话", Signal::RepeatFault);
    silent("客服跟我反复确认了地址", Signal::RepeatFault);
}

#[test]
fn repeat_fault_also_comes_from_the_history() {
    let hits = detect(
        "空调不制冷",
        Channel::Phone,
        History {
            same_product_recently: true,
        },
        &SignalConfig::default(),
    );
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].signal, Signal::RepeatFault);
    assert_eq!(hits[0].source, Source::History);
}

#[test]
fn media_fires_on_public_exposure() {
    fires("外卖里吃出蟑螂 你们等着上热搜吧", Signal::Media);
    fires("已经联系了电视台的记者", Signal::Media);
    fires("要发到抖音上让大家评评理", Signal::Media);
    fires("大家买肉一定要小心 #避雷#", Signal::Media);
    silent("我不想发抖音曝光你们，就想要句实话", Signal::Media);
    silent("在抖音上看到的广告说买一送一", Signal::Media);
    silent("（微博私信）你好，售后等了四个小时", Signal::Media);
}

#[test]
fn legal_police_and_consumer_association() {
    fires("我已经咨询过律师了", Signal::Legal);
    fires("否则我们法庭见", Signal::Legal);
    silent("我不会去法院，只想把定金退回来", Signal::Legal);
    silent("他同事买这家的理财亏了钱去法院起诉了", Signal::Legal);
    fires("她已经报警了", Signal::Police);
    fires("如果不查清楚她就报警", Signal::Police);
    fires("打110", Signal::Police);
    silent("仪表上胎压报警灯还亮着", Signal::Police);
    silent("服务员也没报警", Signal::Police);
    silent("电话1101234567", Signal::Police);
    fires("再推脱她就去消协", Signal::ConsumerAssoc);
    fires("我已向市消费者协会反映", Signal::ConsumerAssoc);
    silent("我不想闹到消协", Signal::ConsumerAssoc);
    silent("本来想直接去消协投诉的，想想算了", Signal::ConsumerAssoc);
}

#[test]
fn regulator_fires_on_threats_and_forwarding() {
    fires("再不处理就打12315", Signal::Regulator);
    fires(
        "如果明天还不发货 我就直接打12315 说到做到",
        Signal::Regulator,
    );
    fires("不然就去市场监管局投诉", Signal::Regulator);
    fires("明天在没结果他就打12345市长热线", Signal::Regulator);
    silent("我不打12315，只想你们给个说法", Signal::Regulator);
    silent("在工商银行办的卡", Signal::Regulator);
    silent("楼道堆满杂物堵塞消防通道", Signal::Regulator);
    silent(
        "之前打过12315，后来商家道歉退款，已经解决了",
        Signal::Regulator,
    );
    let hits = detect(
        "请核实处理",
        Channel::Regulator,
        History::default(),
        &SignalConfig::default(),
    );
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].signal, hits[0].source),
        (Signal::Regulator, Source::Channel)
    );
    let hits = detect(
        "请核实处理",
        Channel::Media,
        History::default(),
        &SignalConfig::default(),
    );
    assert_eq!(hits[0].signal, Signal::Media);
}

#[test]
fn extreme_fires_on_threats_of_violence_sit_ins_and_banners() {
    fires("今天不给答复就在店门口拉横幅", Signal::Extreme);
    fires("明天就去你们公司门口坐着", Signal::Extreme);
    fires("扬言要带汽油来网点同归于尽", Signal::Extreme);
    fires("把车开到店门口堵着，谁也别想进出", Signal::Extreme);
    fires("不给钱就天天来闹，让你们做不成生意", Signal::Extreme);
    fires("再拖下去我就带几个人过去砸了", Signal::Extreme);
    fires("再吵一个礼拜我就叫上邻居把你们卸货口堵了", Signal::Extreme);
    fires("明天就把物业经理的车堵在车库出口", Signal::Extreme);
    fires("再不退我就拉个横幅去你们楼下站着", Signal::Extreme);
    silent("头发把下水道堵了，师傅两天没来", Signal::Extreme);
    silent("早高峰一辆货车把路口堵了", Signal::Extreme);
    silent("快递柜被别人的车堵了", Signal::Extreme);
    silent(
        "我先说明一下，我不是来闹事的，就是想把钱拿回来",
        Signal::Extreme,
    );
    silent("值班经理说会找人来校秤", Signal::Extreme);
    silent("司机说好在出口举牌，结果等到一点多才到", Signal::Extreme);
    fires("明天我们几十个业主去售楼处门口举牌", Signal::Extreme);
    silent("快递员说仓库的货架被砸了", Signal::Extreme);
    silent("她不会去拉横幅也不会去闹", Signal::Extreme);
    silent("跳楼价大甩卖", Signal::Extreme);
    silent("下水道一直堵着", Signal::Extreme);
}

#[test]
fn each_hit_names_the_phrase_and_where_it_is() {
    let text = "洗碗机坏了三次，我要求赔偿，不然就去12315";
    let hits = detect(
        text,
        Channel::Web,
        History::default(),
        &SignalConfig::default(),
    );
    let by = |s: Signal| hits.iter().find(|h| h.signal == s).cloned();
    let comp = by(Signal::Compensation).expect("compensation");
    assert_eq!(comp.phrase, "赔偿");
    let span = comp.span.expect("span");
    assert_eq!(
        text.chars()
            .skip(span.start)
            .take(span.end - span.start)
            .collect::<String>(),
        "赔偿"
    );
    assert_eq!(
        by(Signal::Regulator).map(|h| h.phrase),
        Some("12315".to_owned())
    );
    assert_eq!(
        by(Signal::RepeatFault).map(|h| h.phrase),
        Some("三次".to_owned())
    );
}

#[test]
fn traditional_script_is_read_too() {
    fires("再不處理我就去消費者協會", Signal::ConsumerAssoc);
    fires("吃完上吐下瀉，去了醫院", Signal::Safety);
}

#[test]
fn more_ways_of_asking_for_losses_to_be_made_good() {
    fires("材料全浪费了 这个损失你们平台得负责", Signal::Compensation);
    fires("去医院处理花了三百多，要求餐厅承担", Signal::Compensation);
    fires("要求物业减免这期间的电梯费", Signal::Compensation);
    silent("顾客说赔不赔的无所谓，就想让经理知道", Signal::Compensation);
    silent("想问问亏了的话银行赔不赔", Signal::Compensation);
    silent("对信用卡违约金有异议，希望减免", Signal::Compensation);
    silent("只希望银行把违约金减免", Signal::Compensation);
}

#[test]
fn more_ways_of_saying_someone_was_hurt_or_nearly_was() {
    fires("开到六十多码方向盘突然打不动了", Signal::Safety);
    fires("机顶盒外壳带电，孩子摸了一下被麻了", Signal::Safety);
    fires("开火的时候灶头回火 差点把我眉毛烧了", Signal::Safety);
    fires("下坡时刹车突然发软，踩到底车才停下", Signal::Safety);
    fires("小腿被玻璃碴划了几道", Signal::Safety);
    fires("吃了你们的烧烤，晚上肚子有点不舒服", Signal::Safety);
    fires("电梯已发生两次困人事件", Signal::Safety);
    fires("在路口等红灯时已经熄火三次了", Signal::Safety);
    silent("差点迟到，还好赶上了", Signal::Safety);
    silent("木地板被水泡起鼓", Signal::Safety);
    silent("出国游因为我爸住院去不了，团费只肯退两千", Signal::Safety);
    silent("上个月去医院体检，发现套餐少做了一项", Signal::Safety);
    silent("业务员说有病就能赔，结果住院了申请理赔被拒", Signal::Safety);
    silent("我家的狗在宠物店洗澡后皮肤过敏", Signal::Safety);
    silent("用了三天就坏了，真让人头疼", Signal::Safety);
}

#[test]
fn counts_of_visits_and_telling_are_not_repeated_faults() {
    silent("这是我第三次来你们店吃饭，今天上菜慢", Signal::RepeatFault);
    silent("我来你们店吃过好多次了，这次的菜太咸", Signal::RepeatFault);
    silent("前两次来都挺好的，这次服务员态度很差", Signal::RepeatFault);
    silent("我反复跟服务员说了不要放香菜", Signal::RepeatFault);
    silent("工作人员多次打断用户说话", Signal::RepeatFault);
    fires("前两次都说修好了，结果还是一样", Signal::RepeatFault);
}

#[test]
fn words_that_only_look_like_signals() {
    silent("请贵司相关部门尽快核查处理", Signal::Regulator);
    fires("再不处理我就向有关部门反映", Signal::Regulator);
    silent("申请的政府燃气改造补贴还没到账", Signal::Regulator);
    silent("缴费单上写的户号是A12345", Signal::Regulator);
    silent("手机拍照曝光不准，照片都是白的", Signal::Media);
    silent("买的就是那款上过热搜的网红零食", Signal::Media);
    silent("快递员把我的花瓶砸了", Signal::Extreme);
    fires("再这样我真跟他动手了", Signal::Extreme);
    silent(
        "看到网上有人因为这个起诉了，我自己没遇到问题",
        Signal::Legal,
    );
}

#[test]
fn hazards_named_by_what_could_happen() {
    fires("安全带卡扣卡不住，这样的车开出去出事谁负责", Signal::Safety);
    fires("阳台的栏杆松动了，用手一推就晃", Signal::Safety);
    fires("家里有小孩，随时可能出事", Signal::Safety);
    silent("顾客在超市门口被防盗门报警，员工让她开包", Signal::Police);
}

#[test]
fn a_promise_quoted_and_chasing_one_wait_are_not_signals() {
    silent("主播还说假一赔十，我就要把差价退我", Signal::Compensation);
    silent("宣传写着假一赔十，结果收到的是假货", Signal::Compensation);
    fires(
        "假货，要求按承诺假一赔十，并赔偿我的损失",
        Signal::Compensation,
    );
    silent(
        "中间打电话催了三次，店里每次都说已经在路上了",
        Signal::RepeatFault,
    );
    fires(
        "退款催了三次，一个月了还没到账，再不退我就投诉",
        Signal::RepeatFault,
    );
}

#[test]
fn a_promise_invoked_by_the_customer_is_a_demand() {
    fires(
        "经专柜鉴定是假货，客户要求按平台承诺假一赔十",
        Signal::Compensation,
    );
}

#[test]
fn places_professions_and_other_senses_are_not_signals() {
    silent(
        "我是做律师的，工作很忙，老师每晚十点还在群里发通知",
        Signal::Legal,
    );
    fires("我已经请了律师", Signal::Legal);
    silent("孩子在法院街那个校区上课", Signal::Legal);
    fires("法院见", Signal::Legal);
    silent("我就想拍个长曝光的夜景", Signal::Media);
    silent("香薰机水雾扩散不出来", Signal::Media);
    fires("大家帮忙扩散一下", Signal::Media);
    silent("他母亲住院期间，客服还天天打电话催还款", Signal::Safety);
}

#[test]
fn bodies_named_as_departments_and_asking_about_progress() {
    fires("如问题得不到解决，我们将向住建部门反映", Signal::Regulator);
    silent("期间我多次打电话询问，服务顾问一直拖", Signal::RepeatFault);
    fires(
        "我们多次向物业前台反映，物业只是贴了一张通知",
        Signal::RepeatFault,
    );
}

#[test]
fn more_ways_of_saying_it_found_in_fresh_complaints() {
    fires(
        "要求商家补发一罐，另外再送点东西表示歉意",
        Signal::Compensation,
    );
    fires(
        "来回耽误的时间和这几天租车的钱，希望贵店给个交代",
        Signal::Compensation,
    );
    fires("要求银行把利息损失补给他", Signal::Compensation);
    silent("店长当场表示歉意，但是问题还是没解决", Signal::Compensation);
    silent("我要求退还多收的修理费三百元", Signal::Compensation);
    fires("膝盖着地，现在一片乌青，走路都疼", Signal::Safety);
    fires("孩子被突然打开的门撞到鼻子，流了好多鼻血", Signal::Safety);
    fires("窗户玻璃掉下来了，碎了一地，幸亏当时没人", Signal::Safety);
    fires("电池突然爆了，把床单烧了个洞，还好人没事", Signal::Safety);
    silent(
        "今天碰到的营业员态度太差了，碰到这种人真倒霉",
        Signal::Safety,
    );
    silent("服务员把汤溅到我身上，衣服都脏了", Signal::Safety);
    fires(
        "退款问题已经是第四次来电了，每次都说加急处理",
        Signal::RepeatFault,
    );
    fires("她说要把照片发到大众点评上让大家都看看", Signal::Media);
    fires("物业再不处理，我们就去把物业大门堵了", Signal::Extreme);
    fires("今天不把账户解开，他就睡在营业厅不走了", Signal::Extreme);
    silent("下水道堵了三天了", Signal::Extreme);
}

#[test]
fn allergies_wells_dares_and_revenge() {
    fires(
        "吃完半夜肚子绞着疼，今天班都没上成，这个损失咋算",
        Signal::Compensation,
    );
    fires("孩子脸上全起了疙瘩，喘气都费劲", Signal::Safety);
    fires("吃完虾全身过敏了", Signal::Safety);
    silent("她孩子对坚果过敏，想确认一下能不能吃", Signal::Safety);
    silent("楼下路面的井盖松了，车一压就哐当响", Signal::Safety);
    fires("小区门口的井盖不见了，晚上老人差点掉进去", Signal::Safety);
    silent("孩子发烧在家，点了个粥外卖一个半小时才送到", Signal::Safety);
    silent("服务员跟她吵架的时候说有本事你报警啊", Signal::Police);
    fires("她就找消费者权益保护协会", Signal::ConsumerAssoc);
    fires("他说今天要带几个兄弟过来找那个服务员算账", Signal::Extreme);
    fires("车子的中控屏修了好几遍了，还是死机", Signal::RepeatFault);
    silent("我说了三遍她就不耐烦了", Signal::RepeatFault);
}

#[test]
fn glass_burns_bruises_and_smashing() {
    silent(
        "果酱里吃出了一小块玻璃碴，幸好吐出来了没受伤",
        Signal::Safety,
    );
    fires("小腿被玻璃碴划了几道口子", Signal::Safety);
    fires("身体前冲撞上方向盘，胸口瘀伤", Signal::Safety);
    fires("充电时底座发烫，把手指烫了个泡", Signal::Safety);
    fires(
        "物业再糊弄他，他就把物业办公室的东西全砸了",
        Signal::Extreme,
    );
}
