"""Transparent rules: categories and risk cues, each with the words that matched.

These are the first, deliberately simple version of the desk's judgement; the
evidence they return is what the case page shows an agent, so every pattern
should be one a person would agree with on sight.

The fast tier runs these rules on every post, so each set of them sits behind
a prefilter (`socialdesk.triage.wordrules`) that skips the patterns a post
cannot match and always gives the answer the full patterns give.
"""

import re
from dataclasses import dataclass

from socialdesk.triage.wordrules import WordPattern, WordRules, folded


@dataclass(frozen=True, slots=True)
class Match:
    name: str
    evidence: tuple[str, ...]


# --------------------------------------------------------------------------
# Risk cues
# --------------------------------------------------------------------------

# Who a hurt can happen to, and where on the body.
_PERSON = r"(?:my|his|her|their|our)"
_BODY = (r"(?:hands?|arms?|fingers?|thumbs?|wrists?|elbows?|shoulders?|legs?|knees?|ankles?|"
         r"feet|foot|toes?|hips?|back|neck|face|nose|jaw|teeth|tooth|gums?|mouth|tongue|lips?|"
         r"throat|skin|eyes?|chest|ribs?|son|daughter|child|kids?|baby|partner|wife|husband|"
         r"dog|cat)")
_FAMILY = r"(?:son|daughter|child|kids?|baby|partner|wife|husband|family|mum|mom|dad)"
# Verbs of getting in touch, for "going to the press" and "reporting to the FCA".
_TELL = (r"(?:go(?:ing)?|went|talk(?:ing)?|speak(?:ing)?|writ(?:e|ing)|wrote|contact(?:ed|ing)?|"
         r"tell(?:ing)?|told|e-?mail(?:ed|ing)?|tag(?:ged|ging)?|report(?:ed|ing)?|"
         r"complain(?:ed|ing)?|escalat(?:e|ed|ing)|send(?:ing)? (?:this|it)|sent (?:this|it))")
# Words after "switching to a different …" that mean staying with the brand.
_OFFERING = (r"(?:plan|tariff|package|bundle|product|model|option|size|colou?r|version|"
             r"flavou?r|subscription|account|address|card|payment|method|setting|mode|app)s?")
# Services that go down, for the outage cue.
_SERVICE = (r"(?:app|site|website|service|server|login|network|internet|wi-?fi|broadband|"
            r"signal|checkout|payments?|platform|portal)")

_RISK_WORDS: dict[str, tuple[str, ...]] = {
    "safety": (
        # "burnt toast" is not an injury: burns count only with a person in
        # them, and "burnt out" is tiredness.
        r"(?:got|get|was|been|i'?m) burn(?:ed|t)(?! out)",
        rf"burns? (?:on|to) {_PERSON}",
        r"scald(?:ed|ing|s)?", r"injur(?:y|ies|ed|ing)", r"hospital", r"hospitali[sz]ed",
        r"a&e", r"emergency room", r"urgent care", r"ambulance(?! chas)", r"paramedics?",
        r"(?:call(?:ed|ing)?|ring(?:ing)?|rang|dial(?:l?ed|l?ing)?) (?:999|911|112)",
        # "on fire" is mostly praise ("the team was on fire tonight"); fires
        # count when something catches or is set alight.
        r"(?:caught|catch(?:es|ing)?|set|sets|setting) (?:on )?fire",
        r"(?:go|goes|going|went) on fire", r"fire hazard",
        r"burst into flames", r"went up in flames",
        r"(?:smok(?:e|ing)|flames) (?:came|coming|pouring|billowing)",
        r"burning smell", r"(?:smell|smells|smelt|smelled) (?:of |like )?burning",
        r"carbon monoxide", r"gas leak", r"(?:smell|smells|smelt|smelled) (?:of )?gas",
        # "my phone is exploding with messages" is not an explosion.
        r"explod(?:ed|es|ing)(?! with)",
        r"electric(?:al)? shocks?", r"electrocut(?:ed|ion)",
        r"(?:got|get|getting) an? (?:electric )?shock (?:from|off)",
        # "Nicholas Sparks", "sparks joy": sparks count when they fly.
        r"sparks (?:came|coming|flying|flew|fly) (?:out|from|off)",
        r"(?:throwing|threw|throws|giving off|gave off) sparks", r"sparked (?:and|when|as)",
        # "my heart melted" is not a fault: melting needs a part that melts.
        r"(?:plastic|cable|wire|plug|socket|handle|casing|base|lid|charger) "
        r"(?:has |had |have )?melted", r"melted (?:plastic|cable|wire|plug|socket)",
        r"unsafe", r"dangerous",
        # "cut me off" is a phone line and "hurt me" is often feelings: hurts
        # and cuts need a body part (or a person's own self).
        r"(?:burn(?:ed|t)|scalded) (?:me|him|her|them|us)",
        r"(?:hurt|cut|sliced|injured|burn(?:ed|t)|scalded|broke|broken|fractured|sprained|"
        rf"twisted|chipped|cracked) {_PERSON} {_BODY}",
        # "cut myself off" is leaving a conversation.
        r"(?:cut|burn(?:ed|t)|scalded|hurt|injured) "
        r"(?:myself|himself|herself|themselves|ourselves)(?! off| out| short)",
        r"blisters?",
        # "they choked in the final" is sport: choking needs something to choke on.
        r"chok(?:ed|ing) on", r"choking hazard", r"(?:started|nearly|almost) chok(?:ed|ing)",
        # "I fell in love with it" is not a fall: falls need a place to fall.
        r"(?:slipped|tripped|fell) (?:on|over|in|down|off) (?:the|a|your|some) "
        r"(?:wet |icy |broken |loose |uneven )?(?:floor|stairs|steps?|ice|aisle|puddle|"
        r"spill(?:age)?|pothole|platform|escalator|ladder|kerb|curb|pavement|mat|rug)",
        r"(?:collapsed|gave way) (?:under|beneath) (?:me|him|her|them|us)",
        r"allergic reaction", r"anaphyla(?:xis|ctic)", r"epi-?pen",
        r"food poisoning", r"(?:got|been|was|were|am|is|are) poisoned",
        rf"poisoned (?:me|us|him|her|them|{_PERSON})",
        # "made me sick of waiting" and "made me sick to see" are anger, not illness.
        rf"made (?:me|us|him|her|them|{_PERSON} {_FAMILY}) (?:so |really |very )?"
        r"(?:ill|sick(?! (?:of|to (?:see|hear|read|think|watch|look)))|vomit|throw up|puke)",
        r"(?:vomiting|throwing up|been sick) (?:all night|since|after (?:eating|drinking))",
        r"(?:shards?|pieces?|bits?|chunks?) of (?:glass|metal)",
        r"undercooked (?:chicken|pork|turkey|meat|burgers?)",
        r"(?:chicken|pork|turkey|burger) (?:was|is) (?:still )?raw",
        # Appliances that smoke, spark or scorch. "Sparking a debate" is talk, and
        # "started smoking again" a habit; "scorch marks on a steak" is cooking.
        r"smok(?:ing|ed) and spark(?:ing|ed)", r"spark(?:ing|ed) and smok(?:ing|ed)",
        r"sparking(?! (?:a |an |the )?(?:debate|conversation|discussion|interest|joy|"
        r"controversy|outrage|ideas?|creativity|rumou?rs?))",
        r"(?:started|starts|began|was|is|were|kept|keeps) smoking"
        r"(?! (?:again|weed|cigarettes?|cigars?|a |an |the |when i was))",
        r"sparks (?:were |are |was )?(?:came|coming|flying|flew|fly) (?:out|from|off)",
        r"(?:is|was|are|were|got|left|now) scorched",
        r"scorched (?:plug|socket|wire|cable|wall|carpet|worktop|counter|table|casing|outlet)",
        r"scorch marks? (?:on|around) (?:the |my )?(?:plug|socket|wall|carpet|worktop|counter|"
        r"casing|outlet|cable)",
        r"overheat(?:ed|ing|s)? and (?:melted|caught fire|started smoking|burn\w*|smok\w*|"
        r"spark\w*)",
        r"(?:burn(?:ed|t)?|set fire to) (?:the|our|my) (?:house|home|flat|kitchen) down",
        r"could have (?:burn(?:ed|t)|set fire to|killed|electrocuted|injured)",
        r"(?:battery|batteries) (?:[\w-]+ ){0,4}?(?:swell(?:ed|ing)?|swollen|bulg(?:ed|ing))",
        r"blistered (?:my|his|her|their|our)",
        r"swallow(?:ed|ing) (?:a|an|the|some|one of the) (?:[\w-]+ )?(?:batter(?:y|ies)|magnets?|"
        r"pieces?|parts?|pods?|capsules?|tablets?)",
        r"collapsed with (?:my|our|his|her|a) (?:[\w-]+ )?(?:in|on) it",
        r"rash and swelling", r"(?:broke|came) out in (?:hives|a rash|spots)",
        r"burn marks?", r"(?:gets?|got|getting|goes|went|is|was) red hot",
        r"(?:plastic|casing|cable|wire|plug|socket|lead) (?:is |was |started |starts )?"
        r"(?:bubbling|bubbled|blistering|blackened|charred|warped from the heat)",
        r"(?:ill|sick|unwell|poorly|vomiting|throwing up) (?:for (?:\w+ ){1,2}(?:days?|hours?) )?"
        r"(?:since|after) (?:eating|drinking|having|using)",
        r"swollen (?:face|lips?|eyes?|tongue|throat)",
        # French, Spanish and German: the same harms in the words people use.
        r"(?:a|ont|avait) pris feu", r"prend feu", r"incendie",
        r"brûlée? (?:la|le|les|sa|son|ses|ma|mon|mes) (?:main|doigt|bras|jambe|visage|peau|"
        r"bouche|pied)s?", r"brûlures?", r"(?:sent|odeur de|ça sent) (?:le )?brûlé",
        r"étincelles?", r"décharge électrique", r"électrocutée?", r"intoxication(?: alimentaire)?",
        r"réaction allergique", r"blessée?s?", r"blessures?", r"(?:aux )?urgences", r"hôpital",
        r"dangereu(?:x|se|ses)", r"(?:a )?explosée?", r"(?:s['’])?étouffée?",
        # One alternative per verb: the prefilter keys each on its own stem.
        r"(?:se|me|te) (?:ha |han )?quem(?:ó|é|aron|ado|ada)",
        r"(?:se|me|te) (?:ha |han )?incendi(?:ó|aron|ado|ada)",
        r"incendio", r"(?:echa|echar|echaba|echando|empezó a echar) humo", r"quemaduras?",
        r"descarga eléctrica", r"electrocutad[oa]", r"intoxicación(?: alimentaria)?",
        r"reacción alérgica", r"herid[oa]s?", r"urgencias", r"peligros[oa]s?", r"explotó",
        r"chispas", r"atragant(?:ó|ado|ada|arse)",
        r"feuer gefangen", r"in brand (?:geraten|gesetzt)", r"(?:voller|voll mit) rauch",
        r"raucht", r"stromschlag", r"(?:riecht|roch) (?:nach )?verbrannt",
        r"(?:sich|mich|dich) (?:\w+ ){0,3}?(?:verbrannt|verbrüht|verletzt)", r"verbrennungen?",
        r"lebensmittelvergiftung", r"allergische reaktion", r"verletzungen?", r"krankenhaus",
        r"notaufnahme", r"gefährlich(?:e|er|es)?", r"explodiert", r"funken",
        r"(?:angefangen|begonnen|beginnt|fängt an) zu rauchen", r"geschmolzen",
        r"(?:einen |elektrischen )*schlag (?:\w+ ){0,3}?(?:bekommen|gekriegt|gegeben)",
        r"olía a quemado", r"huele a quemado", r"(?:se ha |se )?derretid[oa]",
        r"(?:a |ont )?fondu",
    ),
    "legal": (
        # "the attorney general" is a regulator, not the author's lawyer, and
        # "my lawyer friend" recommends a shop: a lawyer counts when they act.
        r"(?:my|our) (?:lawyers?|attorneys?|solicitors?|legal team)"
        r"(?! (?:friends?|mates?|pals?|general))",
        r"(?:instruct(?:ed|ing)?|contact(?:ed|ing)?|consult(?:ed|ing)?|hir(?:e|ed|ing)|"
        r"speak(?:ing)? (?:to|with)|spoke (?:to|with)|talk(?:ing|ed)? to|get(?:ting)?|got|"
        r"involv(?:e|ed|ing)) (?:a |an |my |our )?(?:[\w-]+ )?(?:lawyers?|attorneys?|solicitors?)",
        r"(?:lawyers?|attorneys?(?! generals?)|solicitors?) (?:says?|said|will|letter|(?:is|are|"
        r"has been|have been) involved)",
        r"su(?:e|ing|ed) (?:you|them|him|her|the company|your company|@\w+)",
        r"(?:will|i'?ll|we'?ll|going to|gonna|could|should|want to|plan(?:ning)? to|"
        r"threaten(?:ed|ing)? to|decided to) sue",
        r"lawsuit", r"legal (?:action|proceedings|advice)", r"class action",
        # Bare "court" is food courts and tennis: only going to court counts.
        r"small claims(?: court)?", r"see you in court", r"county court",
        r"(?:take|taking|took|drag|dragging|dragged) (?:you|them|this|it|@\w+|"
        r"(?-i:[A-Z][\w&-]+)) to court",
        r"(?:go(?:ing)?|went) to court", r"court (?:case|action|claim|summons|proceedings)",
        r"cease and desist", r"letter before action", r"breach of contract",
        r"report(?:ed|ing)? (?:you|this|them|it) to the police",
        r"through the courts", r"(?:negligence|compensation|personal injury) claim",
        r"claim(?:ing)? (?:for )?compensation",
        r"porter plainte", r"(?:mon|notre|un|une|l['’]) ?avocate?", r"en justice",
        r"mise en demeure", r"tribunal", r"poursuites(?: judiciaires)?", r"procès",
        r"denunci(?:ar|aré|arles|arlos|aremos|a)", r"(?:mi|nuestro|un) abogad[oa](?! del diablo)",
        r"(?:he hablado|hablaré|hablar) con (?:mi|un) abogad[oa]",
        r"tribunales", r"acciones (?:legales|judiciales)", r"(?:poner|pondré) una demanda",
        r"demandar(?:les|los)?",
        r"(?:mein|unser|einen|ein) (?:rechts)?anwalt", r"(?:meine|unsere|eine) (?:rechts)?anwältin",
        r"verklagen", r"(?:straf)?anzeige (?:erstattet|erstatten|gestellt)",
        r"rechtliche schritte", r"vor gericht", r"klage (?:einreichen|eingereicht)",
    ),
    "regulator": (
        r"trading standards", r"ombudsman", r"ftc", r"fcc", r"fda", r"cpsc", r"cfpb", r"nhtsa",
        r"ofcom", r"ofgem", r"ofwat", r"consumer protection", r"regulators?", r"bbb",
        r"better business bureau", r"attorney generals?", r"information commissioner",
        r"financial conduct authority", r"competition and markets authority",
        r"advertising standards(?: authority)?", r"food standards agency",
        r"environmental health", r"civil aviation authority",
        r"federal (?:trade|communications) commission",
        r"consumer financial protection bureau", r"department of transportation",
        r"(?:consumer|financial|data|privacy|competition|advertising|energy|telecoms?|food) "
        r"watchdog",
        # These letters mean other things too (Fiat Chrysler, country music,
        # coin offerings): they count only when someone is told or complained to.
        rf"{_TELL} (?:this |it |you |them )?(?:to |with )?(?:the )?(?:fca|cma|ico|asa)",
        r"(?:fca|cma|ico|asa) complaint",
        r"data protection (?:authority|commissioner|complaint|breach|regulator)",
        r"gdpr (?:complaint|breach|violation)",
        r"(?:breach(?:ed|ing)?|violat(?:e|ed|ing|ion)) (?:of )?(?:the )?(?:gdpr|data protection)",
        r"report(?:ed|ing)? (?:you|this|them|it) to the (?:authorities|regulators?|council)",
        r"médiateur", r"dgccrf", r"cnil", r"arcep", r"60 millions de consommateurs",
        r"ocu", r"facua", r"(?:oficina|organismo) (?:municipal )?(?:del|de) consum(?:o|idor)",
        r"(?:ante|en) consumo", r"hoja de reclamaciones",
        r"verbraucherzentrale", r"bundesnetzagentur", r"bafin", r"schlichtungsstelle",
    ),
    "press": (
        r"journalists?", r"reporters?", r"news ?desk", r"press office",
        r"(?:writing|doing|working on) (?:a|an) (?:story|piece|article|feature|report)",
        # "the news is great" is not press: the author has to take it there.
        rf"{_TELL} (?:this |it )?(?:to )?(?:the )?(?:press|media|papers|newspapers?|news|"
        r"local news|local paper|bbc|itv|sky news|daily mail|guardian|telegraph|watchdog|"
        r"rip ?off britain)",
        r"contacted the (?:press|media)", r"bbc watchdog",
        r"(?:request|ask(?:ing)?) for (?:a )?comment",
        r"(?:this|it)(?: is|'s| will| needs to| should)? go(?:es|ing)? viral",
        r"(?:make|making|help) (?:this|it) (?:go )?viral",
        # A newsroom asking: for comment, a statement, by its deadline.
        r"(?:looking|asking|request(?:ing)?|seek(?:ing)?) (?:for )?(?:a )?comment",
        r"(?:would|could|can) you (?:like to )?comment",
        r"(?:like|need|want|requesting|request|asking for) a (?:statement|response for)",
        r"(?:running|publishing|writing|doing|working on) (?:a|an|our) (?:story|piece|article|"
        r"feature|report)", r"for (?:our|my) (?:story|piece|article)",
        r"(?:press|publication|print|editorial) deadline",
        r"(?:before|by) (?:our|my|the) (?:\d{1,2}(?::\d\d)? ?(?:am|pm) )deadline",
        r"deadline (?:is )?(?:\d{1,2}(?::\d\d)? ?(?:am|pm)|tonight)",
        r"(?:producer|editor|correspondent|presenter) (?:at|from|of|on) ",
        r"(?:available|free|time) for (?:an |a short |a quick )?(?:interview|comment)",
        r"(?:local |national |bbc |community )?(?:radio|tv|television) (?:station )?here",
        r"(?:je prépare|j['’]écris|nous préparons|je rédige) (?:un|une) (?:article|reportage|"
        r"sujet|enquête)",
        r"(?:escribo|preparo|estoy escribiendo|estoy preparando) (?:un|una) (?:reportaje|"
        r"artículo|noticia|crónica)", r"alguien de prensa", r"gabinete de prensa",
        r"wir berichten", r"(?:ich schreibe|wir schreiben) (?:einen|eine) (?:artikel|bericht|"
        r"beitrag|reportage)", r"pressestelle",
        r"journalistes?", r"(?:aux|les|des) médias", r"(?:à|a) la presse", r"la rédaction",
        r"(?:pouvez|pourriez)-vous réagir",
        r"periodistas?", r"(?:hacer|unas|sus) declaraciones", r"(?:a|con) la prensa",
        r"(?:a|con) los medios",
        r"journalist(?:in|en)?", r"stellungnahme", r"(?:an|der|die) presse\b", r"presseanfrage",
        r"redaktion",
    ),
    "fraud": (
        # Money or an account taken without consent, and scams in the brand's name.
        # Bare "fraud" is mostly politics and insults ("what a fraud"): it counts
        # about money, a card or an account, or asked to be looked into.
        r"fraudulent(?:ly)? (?:charged?|charges|transactions?|purchases?|payments?|debits?|"
        r"activity|use|orders?|withdrawals?|prélèvements?)",
        r"fraud(?:ulent)? (?:charges?|transactions?|purchases?|payments?|activity|on my "
        r"(?:card|account))", r"(?:card|bank|account|payment) fraud",
        r"(?:report(?:ing)?|investigat(?:e|ing)|victim of) (?:this |the |a )?fraud",
        r"unauthori[sz]ed (?:transactions?|payments?|charges?|"
        r"purchases?|orders?|debits?|withdrawals?|access)",
        r"(?:someone|somebody)(?:['’]s| has| is| had)? (?:been )?(?:using|used|ordering|ordered|"
        r"accessing|accessed|spending|spent|buying|bought|logging in|logged in|getting into|"
        r"got into|hacked)(?: [\w-]+){0,3}? (?:on |into |with |in |to )?my (?:account|card|"
        r"details|bank)",
        r"(?:payments?|orders?|charges?|transactions?|purchases?)(?: [\w-]+){0,6}? (?:i|we) "
        r"(?:never|didn'?t|did not|haven'?t|have not) (?:made|make|ordered|placed|authori[sz]ed|"
        r"bought|purchased|recogni[sz]e)",
        r"(?:i|we) (?:haven'?t|have not|never|didn'?t) ordered anything",
        r"quelqu['’]un a (?:utilisé|piraté|accédé à|commandé (?:avec|sur)) (?:ma|mon|mes)",
        r"alguien (?:ha|está|había) (?:usado|usando|entrado en|accedido a|hackeado) (?:a )?mi",
        r"jemand hat (?:\w+ ){0,3}?(?:mein|meine|meinem|meiner) (?:konto|karte|account|"
        r"kreditkarte)",
        r"(?:account|card|email|profile) (?:was |has been |got |is )?(?:hacked|compromised|"
        r"cloned|taken over)",
        r"identity theft", r"phishing", r"pretending to be (?:you|@\w+|the company|from)",
        r"(?:scam|spoof|phishing) (?:texts?|emails?|calls?|sites?|websites?|messages?)",
        r"scammed (?:me|us|out of)",
        r"without my (?:permission|consent|authori[sz]ation|knowledge)",
        r"(?:didn'?t|did not|never) authori[sz]e", r"(?:orders?|payments?|purchases?) i never "
        r"(?:made|placed|authori[sz]ed)",
        r"frauduleu(?:x|se|ses)", r"fraude", r"piratée?", r"usurpation d['’]identité",
        r"no autorizad[oa]s?", r"hackead[oa]", r"suplantación de identidad", r"estafad[oa]",
        r"unberechtigte (?:abbuchung|zahlung|belastung)(?:en)?", r"gehackt",
        r"identitätsdiebstahl", r"betrugs?(?:masche|mail|anruf|versuch)",
    ),
    "data_breach": (
        # Customers' data in the wrong hands: the brand's breach, or a mix-up
        # that shows one customer another's details.
        r"data breach", r"breach of (?:my |our |customer )?data",
        r"(?:data|details|information|passwords?|records) (?:was |were |has been |have been |"
        r"got )?(?:leaked|exposed|stolen|compromised|hacked)",
        r"(?:someone|somebody) else['’]?s (?:name|address|details|data|orders?|invoices?|"
        r"account|information|order history|parcel label)",
        r"(?:another|a different) (?:customer|person|user)['’]?s (?:[\w-]+ )?(?:name|address|"
        r"details|data|orders?|invoices?|account|information|phone)",
        r"(?:a )?stranger['’]?s (?:[\w-]+ )?(?:name|address|details|data|orders?|invoices?|"
        r"account|information|phone)",
        r"(?:rechnung|daten|adresse|bestellung|lieferschein) (?:eines|einer) (?:anderen|fremden) "
        r"(?:kunden|kundin|person)",
        r"(?:la facture|les données|l['’]adresse|la commande) d['’]un autre client",
        r"(?:la factura|los datos|la dirección|el pedido) de otro cliente",
        r"(?:leak|leaked|leaking) (?:my|our|customer|customers['’]?|personal) (?:data|details|"
        r"information)",
        r"fuite de données", r"données (?:personnelles )?(?:piratées|volées|exposées|divulguées)",
        r"filtración de datos", r"brecha de (?:datos|seguridad)", r"datos (?:filtrados|robados)",
        r"datenleck", r"datenpanne", r"(?:daten|passwörter) (?:wurden |sind )?(?:veröffentlicht|"
        r"gestohlen|geleakt)",
    ),
    "churn": (
        # Cancelling an order or a booking is a transaction; cancelling what
        # ties the author to the brand is leaving.
        r"cancel(?:l?ing|l?ed|s)? (?:my|the|our) (?:[\w-]+ ){0,3}?(?:subscription|sub|account|"
        r"membership|contract|policy|plan|direct debit)",
        r"thinking (?:of|about) (?:cancel(?:l?ing)|leaving|switching)",
        # "switching to the new plan you offer" is staying: switching counts
        # only towards someone else (another company, a handle, a name).
        rf"switch(?:ing|ed)? (?:over )?to (?:another|a different|a rival|a competitor|a local) "
        rf"(?!{_OFFERING}\b)\w+",
        r"switch(?:ing|ed)? (?:over )?to @\w+",
        r"switch(?:ing|ed)? (?:over )?to (?-i:(?!(?:I|The|THE|You|Your|YOUR|A|An|My|Our|This|It|"
        r"Dark|Light|Plan|Premium|Pro|Plus|Basic|Standard|Unlimited|Business|Family|English)\b)"
        r"[A-Z][\w&-]+)",
        r"switch(?:ing|ed)? (?:providers?|suppliers?|networks?|banks?|carriers?|brands?|companies)",
        r"moving to (?:another|a different)", r"moving my (?:account|business|money|custom)",
        r"(?:looking for|finding|find) (?:a |an )?(?:new|different|another|alternative) "
        r"(?:provider|supplier|bank|network|carrier|insurer|broadband|energy supplier)",
        r"never (?:buying|ordering|shopping) (?:from|with|at) (?:you|them|@\w+)",
        r"never (?:buying|ordering|using|shopping|flying|booking|staying|eating) "
        r"(?:[\w@'-]+ ){0,4}?again",
        r"done with (?:you|@\w+|your (?:company|service|brand))",
        r"(?:i'?m|we'?re|i am|we are) (?:leaving|quitting|ditching|dumping) "
        r"(?:you|@\w+|your (?:company|service|network|bank|brand))",
        r"clos(?:e|ing|ed) (?:my|our) (?:[\w-]+ )?account",
        r"unsubscrib(?:e|ing|ed) from (?:your|the) (?:service|subscription|membership|plan)",
        r"last time (?:i|we|i'?ll|we'?ll|i will|i'?m) (?:buy|order|use|fly|shop|book|stay)(?:ing)?",
        r"tak(?:e|ing) my (?:money|business|custom) (?:elsewhere|somewhere else|to @\w+)",
        r"port(?:ing|ed)? (?:my|our) numbers?", r"(?:pac|stac) code",
        # "it won't renew" is a fault with auto-renewal, not a decision to leave.
        r"(?:won'?t|will not) be renewing", r"(?:i|we) (?:won'?t|will not) renew",
        r"(?:i'?m|we'?re|i am|we are) not renewing",
        # Back to what they used before the brand: "going back to a normal kettle".
        r"(?:go|going|went|gone|goin) back to (?:using |buying )?(?:a |an |my |our |the )?"
        r"(?:normal|old|regular|ordinary|basic|previous|traditional|standard|plain|own)\b",
    ),
    "outage": (
        r"outage", r"power cut", r"service (?:disruption|interruption)",
        rf"{_SERVICE}(?:s|'s)? (?:is |are |keeps |has been |have been )?(?:down|not loading|"
        r"crash(?:ing|es|ed)|won'?t (?:load|open|work)|not working|isn'?t working|"
        r"aren'?t working|stopped working|timing out|went down|gone down)",
        r"(?:it'?s|it is|you'?re|you are|everything is|everything'?s) down again",
        r"down for (?:everyone|anyone)(?: else)?",
        # Happening now: "has anyone else had problems with the handle" is a fault.
        r"(?:is )?(?:anyone|anybody) else (?:having|getting|experiencing) "
        r"(?:problems|issues|trouble|errors)",
        r"no (?:internet|signal|broadband|wi-?fi|connection|network|dial tone|mobile data)",
        # "words have no power" is not a power cut.
        r"no (?:power|electricity|gas|hot water|running water) (?:in|at|for|since|today|again)",
        r"(?:power|electricity) (?:is|has been|went|has gone) (?:off|out|down)",
        r"can'?t (?:log ?in|sign ?in|connect)", r"error 50\d",
        r"50[234] (?:error|bad gateway|service unavailable)", r"bad gateway",
    ),
}
_RISK = WordRules(_RISK_WORDS)
RISK_CUES: dict[str, re.Pattern] = _RISK.patterns

# Personal data posted in public: the reply has to move the conversation
# offline, and the post may need hiding.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+\w")
# Phone numbers as people write them. A bare run of digits is more often an
# order, case or ticket number, so it counts only after "call me on" and the like.
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\(?(?:\+|00)[1-9]\d{0,2}\)?[ .-]?(?:\(0\)[ .-]?)?\d(?:[ .-]?\d){6,12}"  # +44 7700 900123
    r"|\(?0[1-9]\d{1,3}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}"  # 07700 900123, 020 7946 0000
    r"|\(?[2-9]\d{2}\)?[ .-]?[2-9]\d{2}[ .-]\d{4}"  # (555) 201-4567, 555.201.4567
    r")(?![\w])"
    r"|(?<![\w])(?:call|ring|text|phone|tel|mobile|cell|whats ?app)(?: me| us)?"
    r"(?: ?(?:number|no\.?|#))?(?: on| at| is)?:? ?"
    r"\+?\d(?:[ .-]?\d){8,12}(?![\w])",
    re.IGNORECASE,
)
_ORDER = re.compile(
    r"(?<![\w])(?:order|ord|booking|account|acct)\s*(?:no\.?|number|#)?\s*[:#]?\s*"
    r"[A-Z]{0,4}-?\d{5,}(?![\w])"
    r"|(?<![\w])[A-Z]{2,4}-\d{5,}(?![\w])",
    re.IGNORECASE,
)
# Payment cards start with 2 to 6 and are written whole, in fours, or 4-6-5
# (American Express); the Luhn check then rules out most other numbers.
_CARD = re.compile(
    r"(?<![\w-])(?:[2-6]\d{12,18}|[2-6]\d{3}(?:[ -]\d{4}){2}[ -]\d{1,7}|3\d{3}[ -]\d{6}[ -]\d{5})"
    r"(?![\w-])"
)
# IBANs as banks print them (capitals, whole or in fours), checked against the
# country's length and the mod-97 check digits.
_IBAN = re.compile(r"(?<![\w])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![\w])",
                   re.ASCII)
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CY": 28,
    "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22,
    "GI": 23, "GL": 18, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27,
    "KW": 30, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15,
    "PL": 28, "PT": 25, "QA": 29, "RO": 24, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "TR": 26,
}
# National identifiers, each taken only where its own check holds: US Social
# Security numbers written with dashes (nine bare digits are too often something
# else) outside the ranges never issued; UK National Insurance numbers; French
# social security numbers (NIR: the mod-97 key); Spanish DNI and NIE (the check
# letter); German tax ids after their name (ISO 7064 check digit).
_NATIONAL_ID = re.compile(
    r"(?<![\w-])(?P<ssn>(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4})(?![\w-])"
    r"|(?<![\w])(?P<nino>(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"(?: ?\d\d){3} ?[A-D])(?![\w])"
    r"|(?<![\w])(?P<nir>[12] ?\d\d ?\d\d ?(?:\d\d|2[AB]) ?\d{3} ?\d{3} ?\d\d)(?![\w])"
    r"|(?<![\w])(?P<dni>(?:\d{8}|[XYZ]-?\d{7})[ -]?[A-Z])(?![\w])"
    r"|(?:steuer-?id|steuer-?identifikationsnummer|identifikationsnummer|idnr|tax id)\W{0,5}"
    r"(?P<steuerid>[1-9]\d ?\d{3} ?\d{3} ?\d{3})(?![\w])",
    re.IGNORECASE | re.ASCII,
)
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _national_id_valid(match: re.Match) -> bool:
    kind = match.lastgroup
    value = re.sub(r"[ -]", "", match.group(kind)).upper()
    if kind == "nir":
        # Corsica's departments 2A and 2B count as 19 and 18 in the key.
        number = int(value[:13].replace("2A", "19").replace("2B", "18"))
        return 97 - number % 97 == int(value[13:])
    if kind == "dni":
        number = value[:-1].replace("X", "0").replace("Y", "1").replace("Z", "2")
        return _DNI_LETTERS[int(number) % 23] == value[-1]
    if kind == "steuerid":
        product = 10
        for digit in value[:10]:
            total = (int(digit) + product) % 10 or 10
            product = total * 2 % 11
        return (11 - product) % 10 == int(value[10])
    return True  # the SSN's and the NINO's rules are in the pattern


# Cheap necessary conditions, checked first because most posts have no
# personal data: a card or phone number has eight digits close together, an
# IBAN two capitals and two digits, an order number five digits in a row and
# a word such as "order" or a dash, an e-mail address a word character (or
# . + -) just before its @.
_EIGHT_DIGITS = re.compile(r"\d(?:[ ().-]{0,2}\d){7}")
_SIX_DIGITS = re.compile(r"\d(?:[ -]?\d){5}")
_IBAN_START = re.compile(r"[A-Z][A-Z][0-9][0-9]")
_FIVE_DIGITS = re.compile(r"\d\d\d\d\d")  # spelt out: searches faster than \d{5}
_DIGIT = re.compile(r"\d")
_ORDER_WORDS = ("ord", "booking", "acc", "-")


def _may_have_email(text: str) -> bool:
    at = text.find("@", 1)
    while at != -1:
        before = text[at - 1]
        if before.isalnum() or before in "_.+-":
            return True
        at = text.find("@", at + 1)
    return False


def _has_order_word(text: str) -> bool:
    low = folded(text)
    return any(word in low for word in _ORDER_WORDS)


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_valid(candidate: str) -> bool:
    iban = candidate.replace(" ", "")
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    # Move the country and check digits to the end, read letters as 10-35.
    return int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 == 1


def _digit_count(text: str) -> int:
    if text.isascii():
        raw = text.encode()
        return len(raw) - len(raw.translate(None, b"0123456789"))
    return len(_DIGIT.findall(text))  # \d is any script's digits


def personal_data(text: str) -> tuple[str, ...]:
    """The kinds of personal data in the text, in a fixed order."""
    found = []
    digits = _digit_count(text)
    if digits >= 2 and _IBAN_START.search(text):
        ibans = [m.span() for m in _IBAN.finditer(text) if _iban_valid(m.group())]
        if ibans:
            # An IBAN's digits are not also a card or a phone number.
            for start, end in ibans:
                text = text[:start] + " " * (end - start) + text[end:]
            found.append("bank account number")
    if digits >= 6 and _SIX_DIGITS.search(text):
        ids = [m.span() for m in _NATIONAL_ID.finditer(text) if _national_id_valid(m)]
        if ids:
            # Nor is a national identifier's.
            for start, end in ids:
                text = text[:start] + " " * (end - start) + text[end:]
            found.append("national identifier")
    long_number = digits >= 8 and _EIGHT_DIGITS.search(text) is not None
    if long_number and any(_luhn(re.sub(r"\D", "", m.group())) for m in _CARD.finditer(text)):
        found.insert(0, "card number")
    if _may_have_email(text) and _EMAIL.search(text):
        found.append("e-mail address")
    if long_number and _PHONE.search(text):
        found.append("phone number")
    if digits >= 5 and _FIVE_DIGITS.search(text) and _has_order_word(text) \
            and _ORDER.search(text):
        found.append("order number")
    return tuple(found)


def risk_cues(text: str) -> list[Match]:
    cues = [Match(name, evidence) for name, evidence in _RISK.matches(text).items()]
    pii = personal_data(text)
    if pii:
        cues.append(Match("personal_data", pii))
    return cues


# --------------------------------------------------------------------------
# Categories
# --------------------------------------------------------------------------

_CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "spam": (
        r"crypto", r"bitcoin", r"btc", r"forex", r"nft", r"airdrop", r"follow ?back",
        r"(?:buy|cheap|real) followers", r"dm (?:me )?for (?:a )?collab", r"promo code",
        r"earn (?:daily|weekly|[$£€]?\d[\d,]*)", r"(?:work|works|earn) from home", r"giveaway",
        r"click (?:here|the link)", r"claim (?:here|your prize|it)", r"link in (?:my )?bio",
        r"passive ?income", r"trading (?:bot|signals)", r"\d+k (?:real )?followers",
        r"cheap followers", r"blue tick", r"verify your account", r"\d+% off",
        r"limited stock", r"dm (?:me|us|now) (?:for|to)", r"promote (?:it|your)",
        r"you(?:'ve| have)? (?:won|been selected)",
        r"free (?:iphone|gift ?card|money)", r"check (?:out )?my (?:channel|profile|page)",
        r"subscribe to my", r"investment (?:plan|opportunity)", r"onlyfans", r"telegram",
        r"100% guaranteed", r"guaranteed results", r"seo services",
    ),
    "abuse": (
        r"idiots?", r"stupid", r"morons?", r"scum", r"clowns?", r"losers?", r"pathetic",
        r"f+u+c+k+ (?:you|off|this company)", r"fuck(?:ing)? (?:useless|idiots?|clowns?)",
        r"screw you", r"you suck", r"go to hell", r"shut up", r"garbage company",
        r"trash company", r"incompetent", r"bastards?", r"assholes?", r"dumb",
        r"(?:crap|trash|garbage|rubbish) (?:company|staff|service|brand|products?)",
    ),
    "complaint": (
        r"broken", r"broke",
        r"(?:does ?n[o']?t|did ?n[o']?t|is ?n[o']?t|are ?n[o']?t|won'?t|stopped|not) work(?:ing)?",
        r"had nothing", r"no reply", r"(?:double|two) payments?", r"taken (?:two|2) payments",
        r"still (?:waiting|not|no)", r"never (?:arrived|came|received|got)",
        r"(?:has ?n[o']?t|have ?n[o']?t|not yet) (?:arrived|received|got|heard)",
        r"refunds?", r"charged (?:me |my card |my account |us )?(?:twice|double|again)",
        r"double charged", r"overcharged",
        r"late", r"delay(?:ed|s)?", r"missing", r"faulty", r"defective", r"leak(?:s|ing|ed)?",
        r"disappoint(?:ed|ing)", r"terrible", r"awful", r"horrible", r"worst", r"useless",
        r"unacceptable", r"ridiculous", r"rude", r"no (?:one|response|reply|answer)",
        r"ignor(?:ed|ing)", r"problems?", r"issues?", r"errors?", r"fix (?:this|it)",
        r"wrong", r"damaged", r"cold", r"poor", r"complain(?:t|ed|ing)?", r"fed up", r"sucks?",
        r"crash(?:es|ed|ing)?", r"can'?t", r"cannot", r"unable", r"waste", r"lost",
    ),
    "misinformation": (
        r"banned (?:in|by|from)", r"contains? (?:lead|asbestos|mercury|poison|toxins?)",
        r"(?:closing|shutting) (?:down|all)", r"going (?:bankrupt|out of business|bust)",
        r"i heard (?:that|they)", r"apparently (?:they|the)", r"rumou?r",
        r"(?:it'?s|is) a scam", r"(?:secretly|quietly) (?:owned|sold|recalled)", r"fake news",
        r"everyone knows (?:that|they)", r"causes? cancer",
    ),
    "rant": (
        r"rant", r"/s", r"lol", r"lmao", r"rofl", r"🙄", r"😂", r"🤡", r"satire", r"meme",
        r"thanks for nothing", r"oh great", r"just what i needed", r"yeah right", r"sure jan",
        r"clearly", r"genius", r"masterpiece", r"10/10",
        # Praise words around a failure: "great, another delay, love it".
        r"(?:great|fantastic|brilliant|wonderful|perfect|amazing|lovely|nice)[,!.]* (?:another|"
        r"more|yet another|one more)", r"love (?:that|this) for (?:me|us)", r"cheers for nothing",
        r"what a (?:joke|surprise)", r"just what i (?:wanted|needed)",
    ),
    "suggestion": (
        r"would (?:be|love) (?:great|nice|cool|it) if", r"(?:please|pls) (?:add|make|bring)",
        r"you should", r"suggestions?", r"feature request", r"i wish (?:you|there|it)",
        r"it(?:'d| would) be (?:nice|great|good|lovely|amazing|brilliant|awesome|ideal|handy|"
        r"useful|helpful|cool)(?: if| to)", r"(?:i|we)(?:'d| would) love (?:it )?if",
        r"(?:i|we)(?:'d| would) love (?:to see|an? option|the option)",
        r"(?:could|can) you (?:please )?(?:add|make it|let (?:us|me|you)|bring back)",
        r"(?:any|are there) plans to (?:add|bring|make|offer)", r"bring back (?:the|your|my)",
        # Wishes as people word them (read off suggestion-forum sentences).
        r"(?:it )?would be (?:nice|great|good|helpful|useful|awesome|cool|better|ideal|lovely|"
        r"amazing|brilliant|handy|greater|fantastic) (?:if|to)",
        r"(?:i|we)(?:'d| would) (?:really )?like (?:to be able to|to see|an? option|the option|"
        r"the ability|a way)",
        r"(?:should|could) (?:be able to|have an? option|allow|let (?:us|me|users?))",
        r"(?:please|pls|plz) (?:add|allow|make|provide|give|consider|release|support|let|include|"
        r"enable|implement|offer|introduce)",
        r"(?:add|provide|offer|introduce|implement) (?:support for|the ability|an? option|a way)",
        r"make it possible", r"allow (?:us|me|users?|developers?|people|customers?) to",
        r"(?:need|want) (?:a|an|the) (?:way|option|ability|setting) to",
        r"(?:i|we) (?:would )?(?:suggest|propose|recommend that)", r"my suggestion",
        r"(?:maybe|perhaps) (?:you|they|it) (?:could|should)",
        r"(?:you|they) should (?:add|allow|make|let|provide|have|support|offer|include|bring|"
        r"consider)",
        r"can (?:there|we) (?:please )?(?:be|have) (?:an?|some|the option)",
        r"would be (?:nice|handy|useful|helpful)", r"consider (?:adding|making)",
        r"why not (?:add|offer)",
        r"how about (?:adding|a|an)", r"idea:",
    ),
    "question": (
        r"how (?:do|does|can|long|much|to)", r"what (?:is|are|does|time)",
        r"when (?:is|will|does|do)",
        r"where (?:is|can|do)", r"does (?:it|the|this|anyone)", r"do you", r"can (?:i|you|we)",
        r"is (?:it|there|this)", r"are (?:there|you)", r"anyone know", r"any idea",
        r"wondering", r"help me", r"quick question",
        # Requests for help, however they are punctuated.
        r"(?:please|pls|plz) (?:help|advise|assist|check|look into)", r"need (?:some |your )?help",
        r"can (?:someone|somebody|anyone)", r"any ?way (?:i|to)", r"is there (?:a|any) way",
        r"how come", r"why (?:does|did|is|are|do|won'?t|can'?t|isn'?t|doesn'?t)",
        r"get back to me", r"kindly",
    ),
    "praise": (
        r"love", r"loving", r"thanks?", r"thank you", r"great", r"amazing", r"awesome",
        r"brilliant", r"excellent", r"fantastic", r"best", r"perfect", r"superb", r"kudos",
        r"shout ?out", r"recommend", r"delighted", r"happy", r"❤️?", r"😍", r"🙌", r"👏",
    ),
}
_CATEGORIES = WordRules(_CATEGORY_WORDS)
CATEGORY_WORDS: dict[str, re.Pattern] = _CATEGORIES.patterns


# Words that name a failed experience outright: a complaint however politely
# (or cheerfully, with an emoji) it is put.
STRONG_COMPLAINT = WordPattern(
    r"still waiting", r"never (?:arrived|came|received|got)", r"had nothing",
    r"(?:is|are|does|did|has|have) ?n[o']?t (?:work(?:ing|ed)?|arrived|come)",
    r"not working", r"stopped working", r"refunds?",
    r"charged (?:me |my card |my account |us )?(?:twice|double|again)",
    r"double (?:charged|payment)", r"(?:two|2) payments", r"leak(?:s|ing|ed)", r"faulty",
    r"broken", r"no (?:reply|response|answer)", r"damaged", r"missing",
    # Asking the brand to fix something says it is broken.
    r"(?:please |pls |plz )?fix (?:this|it|that|my|the|your)",
)


def category_matches(text: str) -> dict[str, tuple[str, ...]]:
    return _CATEGORIES.matches(text)
