"""Hand-written message texts for the evaluation corpus, one table per language.

Each scenario maps to a list of ``(subject, body)`` templates. Placeholders, filled by
:mod:`eval.build_corpus`: ``{ref}`` (a sentence naming the account, or empty when the reference
sits elsewhere in the email), ``{creditor}``, ``{amount}``, ``{date}``, ``{inst}``, ``{start}``,
``{addr}``, ``{phone}``, ``{first}``, ``{name}``, ``{collector}``, ``{lawyer}``, ``{subref}`` (a
subject suffix naming the account, or empty). The texts were written as debtors write: short,
sometimes rambling, often without the reference, in the debtor's own words.
"""

from __future__ import annotations

Template = tuple[str, str]

EN: dict[str, list[Template]] = {
    "pay_conf": [
        (
            "payment made{subref}",
            "Hi,\n\nJust to let you know I paid {amount} on {date} by bank transfer. {ref}\n"
            "Please confirm you received it and update my balance.\n\nThanks\n{first}",
        ),
        (
            "Re: Your account{subref}",
            "Hello, I sent {amount} today ({date}) from my checking account. {ref} "
            "Can you send a receipt please\n\n{name}",
        ),
    ],
    "promise": [
        (
            "payment next week{subref}",
            "Hi there,\n\nI get paid on the 15th and will send {amount} on {date}. {ref}\n"
            "Sorry it's late, things have been tight.\n\n{first}",
        ),
        (
            "Re: Past due notice{subref}",
            "I will make a payment of {amount} by {date}. {ref} Please don't call my work.\n\n{first}",
        ),
    ],
    "plan": [
        (
            "Payment arrangement{subref}",
            "Dear Sir or Madam,\n\nI lost my job in September and can't pay the full balance. {ref}\n"
            "Could we set up a plan of {inst} per month starting {start}? I can set up a "
            "standing order if that helps.\n\nKind regards,\n{name}",
        ),
        (
            "hardship - please help{subref}",
            "Hello,\n\nMy husband has been in hospital since August and we are on one income. "
            "{ref} I can manage {inst} a month from {start}, I know it's not much. "
            "Please let me know if that is ok.\n\n{first}",
        ),
    ],
    "settle": [
        (
            "Settlement offer{subref}",
            "Hi,\n\n{ref} I'm not able to pay the whole amount but my family can lend me "
            "{amount} as a one-off payment in full and final settlement of this account. "
            "If you accept I can pay within 7 days.\n\n{name}",
        ),
    ],
    "addr": [
        (
            "New address{subref}",
            "Hello,\n\nPlease note I have moved. {ref}\nMy new address is:\n{addr}\n"
            "New mobile: {phone}\n\nThank you\n{name}",
        ),
    ],
    "question": [
        (
            "Question about my balance{subref}",
            "Hi, {ref} why has the balance gone up since last month? I haven't missed anything "
            "as far as I know. Can you send me a statement of all payments?\n\n{first}",
        ),
    ],
    "validation": [
        (
            "Request for debt validation{subref}",
            "To whom it may concern,\n\nI received your letter dated {date}. {ref}\n"
            "Under the Fair Debt Collection Practices Act, 15 USC 1692g, I am requesting that "
            "you validate this debt. Please provide the name of the original creditor, the "
            "amount owed and a copy of the signed agreement. Until you have provided this, "
            "cease all collection activity on this account.\n\nSincerely,\n{name}",
        ),
        (
            "{subref_bare} - prove it",
            "I have no idea what this is. {ref} Prove this debt is mine. Send me proof of what I "
            "supposedly owe and who to, and do not collect on it until you do.\n\n{first}",
        ),
    ],
    "dispute": [
        (
            "Wrong amount{subref}",
            "Hello,\n\n{ref} The amount you are asking for is not correct. I returned the router "
            "in March and the final bill was cancelled by {creditor}. I dispute this debt in "
            "full and have attached my return receipt.\n\n{name}",
        ),
    ],
    "cease": [
        (
            "stop contacting me{subref}",
            "{ref}\nI have asked you before. Do not contact me again by phone, email or letter "
            "about this. Any further contact will be reported.\n\n{name}",
        ),
    ],
    "lawyer": [
        (
            "Re: Final notice{subref}",
            "Please be advised that I now have a lawyer handling this matter. {ref} All "
            "communication must go through my attorney, {lawyer}, from now on. Do not contact "
            "me directly.\n\n{first}",
        ),
    ],
    "bankruptcy": [
        (
            "Chapter 7{subref}",
            "Hello,\n\nI filed for Chapter 7 bankruptcy on {date} in the District of Nevada, "
            "case no. 26-10488. {ref} Please direct any questions to my bankruptcy attorney.\n\n"
            "{name}",
        ),
    ],
    "deceased": [
        (
            "My mother {name}{subref}",
            "Hello,\n\nI am writing to let you know that my mother, {name}, passed away on "
            "{date}. {ref} I am her daughter, not the executor. Please stop sending letters to "
            "this address. The estate is being handled by a probate solicitor.\n\n"
            "Regards,\nClaire",
        ),
    ],
    "idtheft": [
        (
            "This is not my account{subref}",
            "Hi,\n\n{ref} I have never had an account with {creditor}. Someone opened this in my "
            "name - I am a victim of identity theft and have filed a police report "
            "(report no. 26-771204) and an FTC identity theft report. Please close this and "
            "confirm in writing.\n\n{name}",
        ),
    ],
    "negated": [
        (
            "Re: Balance due{subref}",
            "Hi,\n\nJust so we are clear, I am not disputing the debt, I just need more time. {ref} "
            "Could I pay {inst} a month from {start} instead of the full amount?\n\n{first}",
        ),
    ],
    "paid_after_dispute": [
        (
            "Payment{subref}",
            "Hello,\n\nThe dispute I raised in October was sorted out with {creditor}, so I have "
            "now paid the agreed {amount} on {date}. {ref}\n\nThanks,\n{first}",
        ),
    ],
    "quoted_notice": [
        (
            "Re: Notice regarding your account{subref}",
            "I will pay {amount} on {date}, I can't do more this month. {ref}\n\n{first}",
        ),
    ],
}

DE: dict[str, list[Template]] = {
    "pay_conf": [
        (
            "Zahlung erfolgt{subref}",
            "Sehr geehrte Damen und Herren,\n\nich habe am {date} {amount} überwiesen. {ref}\n"
            "Bitte bestätigen Sie den Eingang.\n\nMit freundlichen Grüßen\n{name}",
        ),
        (
            "AW: Zahlungserinnerung{subref}",
            "Hallo, habe heute {amount} überwiesen ({date}). {ref} Gruß {first}",
        ),
    ],
    "promise": [
        (
            "Zahlung{subref}",
            "Guten Tag,\n\nich werde am {date} {amount} zahlen, sobald mein Gehalt da ist. {ref}\n\n"
            "Viele Grüße\n{name}",
        ),
    ],
    "plan": [
        (
            "Bitte um Ratenzahlung{subref}",
            "Sehr geehrte Damen und Herren,\n\nich bin seit August arbeitslos und kann den Betrag "
            "nicht auf einmal bezahlen. {ref}\nIch könnte ab dem {start} monatlich {inst} "
            "zahlen. Wäre das möglich?\n\nMit freundlichen Grüßen\n{name}",
        ),
    ],
    "settle": [
        (
            "Vergleichsangebot{subref}",
            "Guten Tag,\n\n{ref} Ich biete Ihnen zur Erledigung der gesamten Forderung einmalig "
            "{amount} an. Mehr ist leider nicht möglich.\n\nMfG\n{name}",
        ),
    ],
    "addr": [
        (
            "Adressänderung{subref}",
            "Hallo,\n\nich bin umgezogen. {ref}\nNeue Anschrift:\n{addr}\nTelefon: {phone}\n\n"
            "Gruß\n{name}",
        ),
    ],
    "question": [
        (
            "Frage zur Forderung{subref}",
            "Guten Tag, {ref} können Sie mir bitte eine Aufstellung schicken, wie sich der "
            "Betrag zusammensetzt? Die Mahngebühren verstehe ich nicht.\n\n{first}",
        ),
    ],
    "validation": [
        (
            "Widerspruch / Nachweis der Forderung{subref}",
            "Sehr geehrte Damen und Herren,\n\n{ref} Ich bestreite die Forderung dem Grunde und der "
            "Höhe nach. Bitte legen Sie mir einen Nachweis vor (Vertrag, Rechnungen, "
            "Abtretungsnachweis). Bis dahin stellen Sie bitte alle Inkassomaßnahmen ein.\n\n"
            "Mit freundlichen Grüßen\n{name}",
        ),
    ],
    "dispute": [
        (
            "Forderung ist falsch{subref}",
            "Hallo,\n\n{ref} diese Forderung ist nicht berechtigt. Ich habe den Vertrag mit "
            "{creditor} fristgerecht gekündigt und schulde nichts. Ich widerspreche der "
            "Forderung.\n\n{name}",
        ),
    ],
    "cease": [
        (
            "Keine weiteren Anrufe{subref}",
            "{ref}\nIch untersage Ihnen hiermit jede weitere Kontaktaufnahme per Telefon, E-Mail "
            "oder Post.\n\n{name}",
        ),
    ],
    "lawyer": [
        (
            "AW: Letzte Mahnung{subref}",
            "Guten Tag,\n\n{ref} ich habe inzwischen einen Anwalt eingeschaltet. Bitte wenden Sie "
            "sich ab sofort ausschließlich an meinen Rechtsanwalt {lawyer}.\n\n{first}",
        ),
    ],
    "bankruptcy": [
        (
            "Privatinsolvenz{subref}",
            "Sehr geehrte Damen und Herren,\n\nüber mein Vermögen wurde am {date} das "
            "Insolvenzverfahren eröffnet (Amtsgericht Bremen, Az. 40 IK 1187/26). {ref}\n"
            "Bitte melden Sie Ihre Forderung beim Insolvenzverwalter an.\n\n{name}",
        ),
    ],
    "deceased": [
        (
            "Todesfall {name}{subref}",
            "Sehr geehrte Damen und Herren,\n\nmein Vater {name} ist am {date} verstorben. {ref}\n"
            "Eine Sterbeurkunde kann ich nachreichen. Bitte richten Sie Schreiben nicht mehr an "
            "ihn.\n\nMit freundlichen Grüßen\nJonas",
        ),
    ],
    "idtheft": [
        (
            "Identitätsdiebstahl{subref}",
            "Hallo,\n\n{ref} ich hatte nie einen Vertrag mit {creditor}. Jemand hat meine Daten "
            "missbraucht, ich habe Anzeige bei der Polizei erstattet (Vorgangsnr. 2611-0457). "
            "Das ist nicht meine Schuld.\n\n{name}",
        ),
    ],
    "negated": [
        (
            "AW: Zahlungsaufforderung{subref}",
            "Guten Tag,\n\nich bestreite die Forderung nicht, ich brauche nur mehr Zeit. {ref}\n"
            "Kann ich ab {start} monatlich {inst} zahlen?\n\n{name}",
        ),
    ],
    "quoted_notice": [
        (
            "AW: Forderungsaufstellung{subref}",
            "Ich zahle am {date} {amount}. {ref}\n\n{first}",
        ),
    ],
}

FR: dict[str, list[Template]] = {
    "pay_conf": [
        (
            "Paiement effectué{subref}",
            "Bonjour,\n\nJ'ai effectué un virement de {amount} le {date}. {ref}\n"
            "Merci de me confirmer la bonne réception.\n\nCordialement,\n{name}",
        ),
    ],
    "promise": [
        (
            "Paiement{subref}",
            "Bonjour,\n\nJe vous réglerai {amount} le {date}, dès réception de mon salaire. {ref}\n\n"
            "Bien à vous\n{first}",
        ),
    ],
    "plan": [
        (
            "Demande d'échéancier{subref}",
            "Madame, Monsieur,\n\nSuite à une longue maladie, je ne peux pas régler la totalité. "
            "{ref}\nPourriez-vous m'accorder un échéancier de {inst} par mois à partir du "
            "{start} ?\n\nVeuillez agréer mes salutations distinguées.\n{name}",
        ),
    ],
    "settle": [
        (
            "Proposition{subref}",
            "Bonjour,\n\n{ref} Je vous propose {amount} en règlement définitif et pour solde de "
            "tout compte.\n\n{name}",
        ),
    ],
    "addr": [
        (
            "Changement d'adresse{subref}",
            "Bonjour,\n\nJ'ai déménagé. {ref}\nMa nouvelle adresse :\n{addr}\nTél. : {phone}\n\n"
            "Cordialement\n{name}",
        ),
    ],
    "question": [
        (
            "Question{subref}",
            "Bonjour, {ref} pourriez-vous m'envoyer le détail des frais ? Je ne comprends pas le "
            "montant réclamé.\n\n{first}",
        ),
    ],
    "validation": [
        (
            "Contestation de créance{subref}",
            "Madame, Monsieur,\n\n{ref} Je conteste cette créance. Je vous demande de me fournir "
            "la preuve de la créance (contrat signé, décompte détaillé, cession de créance). "
            "Dans l'attente, je vous demande de suspendre toute procédure de recouvrement.\n\n"
            "{name}",
        ),
    ],
    "dispute": [
        (
            "Réclamation{subref}",
            "Bonjour,\n\n{ref} Je ne dois pas cette somme : le contrat avec {creditor} a été "
            "résilié en février. Je conteste formellement ce montant.\n\n{name}",
        ),
    ],
    "cease": [
        (
            "Harcèlement{subref}",
            "{ref}\nJe vous demande de cesser immédiatement tout contact avec moi, par téléphone "
            "comme par courrier.\n\n{name}",
        ),
    ],
    "lawyer": [
        (
            "RE: Mise en demeure{subref}",
            "Bonjour,\n\n{ref} J'ai confié ce dossier à mon avocat, Maître {lawyer}. Merci de "
            "vous adresser désormais uniquement à lui.\n\n{first}",
        ),
    ],
    "bankruptcy": [
        (
            "Surendettement{subref}",
            "Madame, Monsieur,\n\nMon dossier de surendettement a été déclaré recevable par la "
            "commission de la Banque de France le {date}. {ref}\nLes procédures d'exécution sont "
            "suspendues.\n\n{name}",
        ),
    ],
    "deceased": [
        (
            "Décès de {name}{subref}",
            "Bonjour,\n\nJe vous informe du décès de ma mère, {name}, survenu le {date}. {ref}\n"
            "Merci de ne plus lui adresser de courrier. Le notaire chargé de la succession "
            "vous contactera.\n\nSophie",
        ),
    ],
    "idtheft": [
        (
            "Usurpation d'identité{subref}",
            "Bonjour,\n\n{ref} Je n'ai jamais souscrit de contrat chez {creditor}. Je suis victime "
            "d'une usurpation d'identité et j'ai porté plainte au commissariat.\n\n{name}",
        ),
    ],
    "negated": [
        (
            "RE: Relance{subref}",
            "Bonjour,\n\nJe ne conteste pas la dette, j'ai juste besoin d'un peu plus de temps. "
            "{ref} Est-ce que je peux payer {inst} par mois à partir du {start} ?\n\n{first}",
        ),
    ],
    "quoted_notice": [
        (
            "RE: Avis concernant votre dossier{subref}",
            "Je paierai {amount} le {date}. {ref}\n\n{first}",
        ),
    ],
}

ES: dict[str, list[Template]] = {
    "pay_conf": [
        (
            "Pago realizado{subref}",
            "Buenos días,\n\nLes informo de que el {date} hice una transferencia de {amount}. "
            "{ref}\nPor favor confirmen la recepción.\n\nUn saludo,\n{name}",
        ),
    ],
    "promise": [
        (
            "Pago{subref}",
            "Hola,\n\nPagaré {amount} el {date} cuando cobre la nómina. {ref}\n\nSaludos\n{first}",
        ),
    ],
    "plan": [
        (
            "Solicitud de aplazamiento{subref}",
            "Estimados señores:\n\nEstoy en paro desde julio y no puedo pagar el total. {ref}\n"
            "¿Podría pagar {inst} al mes a partir del {start}?\n\nAtentamente,\n{name}",
        ),
    ],
    "settle": [
        (
            "Propuesta de pago{subref}",
            "Hola,\n\n{ref} Les ofrezco {amount} en un único pago para saldar la deuda "
            "definitivamente.\n\n{name}",
        ),
    ],
    "addr": [
        (
            "Cambio de domicilio{subref}",
            "Hola,\n\nMe he mudado. {ref}\nMi nueva dirección es:\n{addr}\nTeléfono: {phone}\n\n"
            "Gracias\n{name}",
        ),
    ],
    "question": [
        (
            "Consulta{subref}",
            "Hola, {ref} ¿me pueden enviar el desglose de la deuda? No entiendo de dónde salen "
            "los intereses.\n\n{first}",
        ),
    ],
    "validation": [
        (
            "Reclamación - acreditación de la deuda{subref}",
            "Estimados señores:\n\n{ref} No reconozco esta deuda. Les solicito que acrediten la "
            "deuda con el contrato firmado y el detalle de los importes. Mientras tanto, "
            "suspendan cualquier gestión de cobro.\n\n{name}",
        ),
    ],
    "dispute": [
        (
            "No debo esta cantidad{subref}",
            "Hola,\n\n{ref} Di de baja el servicio de {creditor} en enero y no debo nada. "
            "Impugno esta deuda.\n\n{name}",
        ),
    ],
    "cease": [
        (
            "Dejen de llamarme{subref}",
            "{ref}\nLes exijo que dejen de contactarme por teléfono y por correo.\n\n{name}",
        ),
    ],
    "lawyer": [
        (
            "RE: Último aviso{subref}",
            "Hola,\n\n{ref} He puesto este asunto en manos de mi abogado, {lawyer}. A partir de "
            "ahora diríjanse únicamente a él.\n\n{first}",
        ),
    ],
    "bankruptcy": [
        (
            "Concurso de acreedores{subref}",
            "Estimados señores:\n\nEl {date} el Juzgado de lo Mercantil n.º 2 de Santander "
            "declaró mi concurso de acreedores (Ley de Segunda Oportunidad). {ref}\n\n{name}",
        ),
    ],
    "deceased": [
        (
            "Fallecimiento{subref}",
            "Buenos días,\n\nLes comunico que mi padre, {name}, falleció el {date}. {ref}\n"
            "Por favor, no envíen más cartas a su nombre.\n\nUn saludo,\nLucía",
        ),
    ],
    "idtheft": [
        (
            "Suplantación de identidad{subref}",
            "Hola,\n\n{ref} Nunca he tenido contrato con {creditor}. Han usado mis datos: soy "
            "víctima de una suplantación de identidad y ya puse la denuncia.\n\n{name}",
        ),
    ],
    "negated": [
        (
            "RE: Requerimiento de pago{subref}",
            "Hola,\n\nNo estoy discutiendo la deuda, solo necesito más tiempo. {ref} ¿Puedo pagar "
            "{inst} al mes desde el {start}?\n\n{first}",
        ),
    ],
}

IT: dict[str, list[Template]] = {
    "pay_conf": [
        (
            "Pagamento effettuato{subref}",
            "Buongiorno,\n\nvi comunico che in data {date} ho effettuato un bonifico di {amount}. "
            "{ref}\nVi prego di confermare.\n\nCordiali saluti\n{name}",
        ),
    ],
    "promise": [
        (
            "Pagamento{subref}",
            "Salve,\n\npagherò {amount} il {date}. {ref}\n\nGrazie\n{first}",
        ),
    ],
    "plan": [
        (
            "Richiesta di rateizzazione{subref}",
            "Gentili signori,\n\nho perso il lavoro e non riesco a pagare tutto insieme. {ref}\n"
            "Posso pagare {inst} al mese a partire dal {start}?\n\nDistinti saluti\n{name}",
        ),
    ],
    "settle": [
        (
            "Proposta a saldo e stralcio{subref}",
            "Buongiorno,\n\n{ref} propongo {amount} a saldo e stralcio della posizione, in unica "
            "soluzione.\n\n{name}",
        ),
    ],
    "addr": [
        (
            "Cambio di indirizzo{subref}",
            "Buongiorno,\n\nmi sono trasferito. {ref}\nNuovo indirizzo:\n{addr}\nCell. {phone}\n\n"
            "Saluti\n{name}",
        ),
    ],
    "question": [
        (
            "Informazioni{subref}",
            "Salve, {ref} potete mandarmi il dettaglio degli importi? Non capisco le spese.\n\n"
            "{first}",
        ),
    ],
    "validation": [
        (
            "Contestazione del credito{subref}",
            "Spett.le società,\n\n{ref} contesto il credito. Vi chiedo di fornire la prova del "
            "credito (contratto firmato ed estratto conto) e di sospendere nel frattempo ogni "
            "attività di recupero.\n\n{name}",
        ),
    ],
    "dispute": [
        (
            "Importo non dovuto{subref}",
            "Buongiorno,\n\n{ref} non devo questa somma: ho disdetto il contratto con {creditor} "
            "a gennaio. Contesto l'importo richiesto.\n\n{name}",
        ),
    ],
    "cease": [
        (
            "Basta chiamate{subref}",
            "{ref}\nVi diffido dal contattarmi ulteriormente, per telefono o per posta.\n\n{name}",
        ),
    ],
    "lawyer": [
        (
            "R: Sollecito{subref}",
            "Buongiorno,\n\n{ref} ho affidato la pratica al mio avvocato, Avv. {lawyer}. D'ora in "
            "poi rivolgetevi esclusivamente al mio legale.\n\n{first}",
        ),
    ],
    "bankruptcy": [
        (
            "Sovraindebitamento{subref}",
            "Gentili signori,\n\nil Tribunale di Bologna in data {date} ha aperto la procedura di "
            "liquidazione controllata del sovraindebitato nei miei confronti. {ref}\n\n{name}",
        ),
    ],
    "deceased": [
        (
            "Decesso{subref}",
            "Buongiorno,\n\nvi informo che mio padre, {name}, è deceduto il {date}. {ref}\n"
            "Vi prego di non inviare più corrispondenza a suo nome.\n\nMarco",
        ),
    ],
    "idtheft": [
        (
            "Furto d'identità{subref}",
            "Salve,\n\n{ref} non ho mai avuto rapporti con {creditor}. Sono vittima di un furto "
            "d'identità e ho sporto denuncia ai Carabinieri.\n\n{name}",
        ),
    ],
    "negated": [
        (
            "R: Sollecito di pagamento{subref}",
            "Buongiorno,\n\nnon contesto il debito, ho solo bisogno di più tempo. {ref} Posso "
            "pagare {inst} al mese dal {start}?\n\n{first}",
        ),
    ],
}

NL: dict[str, list[Template]] = {
    "pay_conf": [
        (
            "Betaling gedaan{subref}",
            "Goedendag,\n\nIk heb op {date} {amount} overgemaakt. {ref}\nWilt u de ontvangst "
            "bevestigen?\n\nMet vriendelijke groet,\n{name}",
        ),
    ],
    "promise": [
        (
            "Betaling{subref}",
            "Hallo,\n\nIk betaal {amount} op {date}. {ref}\n\nGroet\n{first}",
        ),
    ],
    "plan": [
        (
            "Verzoek betalingsregeling{subref}",
            "Geachte heer/mevrouw,\n\nIk ben mijn baan kwijtgeraakt en kan het bedrag niet in "
            "één keer betalen. {ref}\nKan ik vanaf {start} {inst} per maand betalen?\n\n"
            "Met vriendelijke groet,\n{name}",
        ),
    ],
    "settle": [
        (
            "Voorstel{subref}",
            "Hallo,\n\n{ref} Ik bied {amount} ineens aan als finale kwijting van de "
            "vordering.\n\n{name}",
        ),
    ],
    "addr": [
        (
            "Adreswijziging{subref}",
            "Hallo,\n\nIk ben verhuisd. {ref}\nMijn nieuwe adres:\n{addr}\nTelefoon: {phone}\n\n"
            "Groet\n{name}",
        ),
    ],
    "question": [
        (
            "Vraag{subref}",
            "Hallo, {ref} kunt u mij een overzicht sturen van de kosten? Ik snap het bedrag "
            "niet.\n\n{first}",
        ),
    ],
    "validation": [
        (
            "Bezwaar vordering{subref}",
            "Geachte heer/mevrouw,\n\n{ref} Ik betwist deze vordering. Graag ontvang ik een "
            "onderbouwing (overeenkomst en specificatie). Tot die tijd verzoek ik u de "
            "incasso op te schorten.\n\n{name}",
        ),
    ],
    "dispute": [
        (
            "Onterechte vordering{subref}",
            "Hallo,\n\n{ref} Deze vordering klopt niet, ik heb mijn abonnement bij {creditor} "
            "op tijd opgezegd. Ik ga niet akkoord met deze vordering.\n\n{name}",
        ),
    ],
    "cease": [
        (
            "Geen contact meer{subref}",
            "{ref}\nIk wil niet langer door u gebeld of gemaild worden. Stop met het "
            "benaderen van mij.\n\n{name}",
        ),
    ],
    "lawyer": [
        (
            "RE: Aanmaning{subref}",
            "Goedendag,\n\n{ref} Ik heb een advocaat ingeschakeld, mr. {lawyer}. Neemt u voortaan "
            "alleen contact op met mijn advocaat.\n\n{first}",
        ),
    ],
    "bankruptcy": [
        (
            "WSNP{subref}",
            "Geachte heer/mevrouw,\n\nDe rechtbank Utrecht heeft op {date} de "
            "schuldsaneringsregeling (WSNP) op mij van toepassing verklaard. {ref}\n"
            "Bewindvoerder: mr. De Haan.\n\n{name}",
        ),
    ],
    "deceased": [
        (
            "Overlijden{subref}",
            "Goedendag,\n\nHierbij laat ik u weten dat mijn moeder, {name}, op {date} is "
            "overleden. {ref}\nWilt u geen post meer naar haar sturen?\n\nEva",
        ),
    ],
    "idtheft": [
        (
            "Identiteitsfraude{subref}",
            "Hallo,\n\n{ref} Ik heb nooit een contract gehad bij {creditor}. Iemand heeft mijn "
            "gegevens misbruikt (identiteitsfraude); ik heb aangifte gedaan bij de politie.\n\n"
            "{name}",
        ),
    ],
    "negated": [
        (
            "RE: Betalingsherinnering{subref}",
            "Hallo,\n\nIk betwist de schuld niet, ik heb alleen meer tijd nodig. {ref} Mag ik "
            "vanaf {start} {inst} per maand betalen?\n\n{first}",
        ),
    ],
}

TEXTS: dict[str, dict[str, list[Template]]] = {
    "en": EN,
    "de": DE,
    "fr": FR,
    "es": ES,
    "it": IT,
    "nl": NL,
}

# How a debtor names the account in a sentence: {kind} is the localised word for the kind of
# reference ("account", "case"), {value} the reference as the debtor typed it.
REF_SENTENCES: dict[str, list[str]] = {
    "en": [
        "My account number is {value}.",
        "Ref {value}",
        "(your ref: {value})",
        "This is about {value}.",
        "re {value}",
    ],
    "de": ["Aktenzeichen {value}.", "Ihr Zeichen: {value}", "Kundennummer {value}.", "({value})"],
    "fr": ["Référence dossier : {value}.", "N° client {value}.", "(réf. {value})"],
    "es": ["Referencia: {value}.", "N.º de expediente {value}.", "({value})"],
    "it": ["Pratica n. {value}.", "Codice cliente {value}.", "(rif. {value})"],
    "nl": ["Dossiernummer {value}.", "Klantnummer {value}.", "(kenmerk {value})"],
}

AUTO_REPLIES: dict[str, Template] = {
    "en": (
        "Automatic reply: {subject}",
        "Thank you for your email. I am out of the office until {date} with limited access to "
        "email. For urgent matters please call the front desk.\n\nBest regards\n{name}",
    ),
    "de": (
        "Abwesenheitsnotiz: {subject}",
        "Vielen Dank für Ihre Nachricht. Ich bin bis einschließlich {date} nicht im Büro und "
        "habe keinen Zugriff auf meine E-Mails. Ihre Nachricht wird nicht weitergeleitet.\n\n"
        "Mit freundlichen Grüßen\n{name}",
    ),
    "fr": (
        "Réponse automatique : {subject}",
        "Bonjour,\n\nJe suis absent(e) jusqu'au {date} inclus. Je prendrai connaissance de votre "
        "message à mon retour.\n\nCordialement,\n{name}",
    ),
    "es": (
        "Respuesta automática: {subject}",
        "Gracias por su mensaje. Estaré fuera de la oficina hasta el {date}.\n\n{name}",
    ),
    "it": (
        "Risposta automatica: {subject}",
        "Sono fuori ufficio fino al {date}. Risponderò al mio rientro.\n\n{name}",
    ),
    "nl": (
        "Automatisch antwoord: {subject}",
        "Bedankt voor uw bericht. Ik ben afwezig tot en met {date} en lees mijn e-mail niet.\n\n"
        "{name}",
    ),
}

# The collector's own letters, quoted back under debtors' replies: they explain the right to
# dispute and to request validation, which is compliance wording that is not the debtor's.
VALIDATION_NOTICES: dict[str, str] = {
    "en": (
        "{collector} is a debt collector. We are trying to collect a debt that you owe to "
        "{creditor}. We will use any information you give us to help collect the debt.\n\n"
        "Our information shows you owe {balance}.\n\n"
        "How can you dispute the debt?\n"
        "- Call or write to us by {deadline} to dispute all or part of the debt. If you do not, "
        "we will assume that our information is correct.\n"
        "- If you write to us by {deadline}, we must stop collection on any amount you dispute "
        "until we send you information that shows you owe the debt.\n"
        "What else can you do?\n"
        "- Write to ask for the name and address of the original creditor, if different from "
        "the current creditor. If you write by {deadline}, we must stop collection until we send "
        "you that information.\n"
        "- Go to www.cfpb.gov/debt-collection to learn more about your rights under federal law."
    ),
    "de": (
        "Sehr geehrte Kundin, sehr geehrter Kunde,\n\nwir sind von {creditor} mit dem Einzug "
        "der offenen Forderung in Höhe von {balance} beauftragt.\nSollten Sie Einwände gegen die "
        "Forderung haben, können Sie der Forderung bis zum {deadline} schriftlich widersprechen. "
        "Im Falle eines Widerspruchs stellen wir die Beitreibung bis zur Klärung ein.\n\n"
        "Mit freundlichen Grüßen\n{collector}"
    ),
    "fr": (
        "Madame, Monsieur,\n\nNous sommes mandatés par {creditor} pour le recouvrement de la "
        "somme de {balance}.\nSi vous contestez cette créance, vous pouvez nous le faire savoir "
        "par écrit avant le {deadline} ; la procédure de recouvrement sera alors suspendue.\n\n"
        "{collector}"
    ),
}

LAWYERS = {
    "en": "Dana R. Whitcombe, Whitcombe & Alvarez LLP, (555) 014-2290",
    "de": "Dr. Henrik Albers, Kanzlei Albers & Roth, Bremen",
    "fr": "Camille Fournier, avocate au barreau de Lyon",
    "es": "D. Álvaro Pereda, Pereda Abogados",
    "it": "Giulia Ferraresi del Foro di Bologna",
    "nl": "J. van Dijk, Van Dijk Advocaten",
}
