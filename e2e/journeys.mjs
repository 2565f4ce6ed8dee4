// Sayso's browser journeys, one per run:
//
//   node journeys.mjs BASE_URL ARTEFACTS_DIR JOURNEY
//
// Headless Debian Chromium (never a downloaded browser) driven by
// playwright-core. Every page visited is checked with axe-core at WCAG 2.2
// AA, and the main pages are saved as screenshots at phone and desktop
// width. e2e_test.go runs the journeys in order against one Sayso, so each
// may rely on what the ones before it did.

import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [base, artefacts, journey] = process.argv.slice(2);
if (!base || !artefacts || !journey) {
  console.error('usage: node journeys.mjs BASE_URL ARTEFACTS_DIR JOURNEY');
  process.exit(2);
}
mkdirSync(artefacts, { recursive: true });

const executablePath = process.env.SAYSO_CHROMIUM || '/usr/bin/chromium';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const problems = [];
const checked = new Set();

function fail(msg) {
  throw new Error(msg);
}

function expect(cond, msg) {
  if (!cond) fail(msg);
}

// A session is one person in their own browser context.
async function session(browser, who, { javaScript = true } = {}) {
  const context = await browser.newContext({ viewport: PHONE, javaScriptEnabled: javaScript, acceptDownloads: true, locale: 'en-GB' });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) problems.push(`${who}: ${page.url()}: console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${who}: ${page.url()}: script error: ${e.message}`));
  await page.goto(`${base}/login?login_hint=${encodeURIComponent(who)}`);
  expect(new URL(page.url()).pathname === '/', `${who}: signing in ended at ${page.url()}, want /`);
  return { who, context, page, browser, javaScript };
}

// check runs axe-core on the page as it is now. It is injected through the
// DevTools protocol, so Sayso's Content-Security-Policy stays on.
async function check(s, label) {
  let { page } = s;
  let helper;
  if (!s.javaScript) {
    // With JavaScript off nothing can run in the page, so the same page is
    // opened in a second context with the same cookies and checked there.
    helper = await s.browser.newContext({ viewport: PHONE, storageState: await s.context.storageState() });
    page = await helper.newPage();
    await page.goto(s.page.url());
  }
  const result = await page.evaluate(`${axeSource}
    ;axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(AXE_TAGS)} }, resultTypes: ['violations'] })
      .then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary).slice(0, 5) })))`);
  checked.add(new URL(page.url()).pathname);
  if (helper) await helper.close();
  for (const v of result) {
    problems.push(`axe ${v.id} (${v.impact}) on ${label} [${page.url()}]: ${v.help}\n      ${v.nodes.join('\n      ')}`);
  }
}

// shot checks the page and saves it at phone and desktop width.
async function shot(s, name) {
  await check(s, name);
  const { page } = s;
  await page.screenshot({ path: join(artefacts, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(artefacts, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
}

// visit goes to a path and checks it.
async function visit(s, path, label = path) {
  const resp = await s.page.goto(base + path);
  expect(resp && resp.status() === 200, `${s.who}: GET ${path} = ${resp && resp.status()}, want 200`);
  await check(s, label);
}

async function clickLink(s, name) {
  await Promise.all([s.page.waitForLoadState('load'), s.page.getByRole('link', { name, exact: false }).first().click()]);
}

async function clickButton(s, name) {
  await s.page.getByRole('button', { name, exact: false }).first().click();
  await s.page.waitForLoadState('load');
}

async function choose(s, label) {
  await s.page.getByLabel(label, { exact: true }).check();
}

async function heading(s) {
  return (await s.page.locator('h1').first().innerText()).trim();
}

async function bodyText(s) {
  return s.page.locator('body').innerText();
}

async function expectText(s, text) {
  const body = await bodyText(s);
  expect(body.includes(text), `${s.who}: ${s.page.url()} does not say ${JSON.stringify(text)}; it says:\n${body.slice(0, 1500)}`);
}

// The journeys.

const journeys = {
  // Amara shares her address with Sam, who already works with her.
  async YoungPersonShares(browser) {
    const s = await session(browser, 'amara');
    await shot(s, 'young-person-home');
    await visit(s, '/yp/amara/holders');
    await shot(s, 'young-person-who-knows');
    await visit(s, '/yp/amara/family');
    await shot(s, 'young-person-who-can-act');
    await visit(s, '/yp/amara/sharing');
    await clickLink(s, 'Share something new');
    expect((await heading(s)) === 'Who do you want to share something with?', `share: first step is ${await heading(s)}`);
    // Continuing without a choice shows the error summary.
    await clickButton(s, 'Continue');
    await expectText(s, 'There is a problem');
    await check(s, 'share step with error');
    await shot(s, 'young-person-share-who-error');
    await choose(s, 'Sam Patel');
    await clickButton(s, 'Continue');
    await check(s, 'share what');
    await choose(s, 'Your address');
    await clickButton(s, 'Continue');
    await check(s, 'share why');
    await choose(s, 'To plan a visit to your home');
    await clickButton(s, 'Continue');
    await choose(s, '6 months');
    await shot(s, 'young-person-share-how-long');
    await clickButton(s, 'Continue');
    expect((await heading(s)) === 'Check before you share', `share: check page is ${await heading(s)}`);
    await shot(s, 'young-person-share-check');
    await clickButton(s, 'Share your address with Sam Patel');
    await expectText(s, 'You are sharing your address with Sam Patel');
    await shot(s, 'young-person-share-done');
    await visit(s, '/yp/amara/sharing');
    await expectText(s, 'Sam Patel, social worker at Riverside Council');
    await shot(s, 'young-person-who-can-see-what');
  },

  // Sam asks Amara for more (a bad submission first), then reads her address.
  async ProfessionalAsksAndReads(browser) {
    const s = await session(browser, 'sam');
    await shot(s, 'professional-home');
    await clickLink(s, 'Amara Okafor');
    await shot(s, 'professional-young-person');
    await clickLink(s, 'Ask for access');
    const reason = 'I am Amara\'s social worker and want to plan our next meeting with her.';
    await s.page.getByLabel('Why are you asking, in your own words?').fill(reason);
    await choose(s, 'Plan support');
    await clickButton(s, 'Send the request');
    await expectText(s, 'There is a problem');
    await expectText(s, 'Choose what you need to see');
    const kept = await s.page.getByLabel('Why are you asking, in your own words?').inputValue();
    expect(kept === reason, `ask: reason after bad submission = ${JSON.stringify(kept)}, want what was typed`);
    expect(await s.page.getByLabel('Plan support', { exact: true }).isChecked(), 'ask: purpose choice was not kept');
    expect((await s.page.title()).startsWith('Error:'), `ask: title ${await s.page.title()} does not start with Error:`);
    await shot(s, 'professional-ask-error');
    await choose(s, 'Phone number');
    await choose(s, 'Social care information');
    await choose(s, '3 months');
    await clickButton(s, 'Send the request');
    await expectText(s, 'Your request has been sent to Amara Okafor');
    await expectText(s, 'Waiting');
    await shot(s, 'professional-requests');
    await visit(s, '/work/yp/amara/read');
    await expectText(s, 'will see that you looked');
    await shot(s, 'professional-read');
    await choose(s, 'Address');
    await choose(s, 'Home visit');
    await clickButton(s, 'Read it now');
    await expectText(s, '14 Willow Road');
    await shot(s, 'professional-records');
  },

  // Amara answers Sam's request: yes to her phone number, no to the rest.
  async AnswersRequest(browser) {
    const s = await session(browser, 'amara');
    await expectText(s, '1 request is waiting');
    await visit(s, '/yp/amara/requests');
    await shot(s, 'young-person-requests');
    await clickLink(s, 'Answer');
    await expectText(s, 'I am Amara\'s social worker');
    await shot(s, 'young-person-request');
    await s.page.getByRole('group', { name: 'Can Sam Patel see your phone number?' }).getByLabel('Yes').check();
    await s.page.getByRole('group', { name: 'Can Sam Patel see your social care information?' }).getByLabel('No').check();
    await s.page.getByLabel(/A message to Sam Patel/).fill('Text me before you come round.');
    await clickButton(s, 'Continue');
    await shot(s, 'young-person-request-check');
    await clickButton(s, 'Send your answer to Sam Patel');
    await expectText(s, 'Answer sent');
    await expectText(s, "can't see your social care information");
    await shot(s, 'young-person-request-answered');
  },

  // Amara moves the end of her address share to a date she chooses.
  async ChangesEndDate(browser) {
    const s = await session(browser, 'amara');
    await visit(s, '/yp/amara/sharing');
    await clickLink(s, /Change end date\s*:\s*Your address/);
    await choose(s, 'Until a date I choose');
    const year = String(new Date().getFullYear() + 1);
    await s.page.getByLabel('Day', { exact: true }).fill('14');
    await s.page.getByLabel('Month', { exact: true }).fill('2');
    await s.page.getByLabel('Year', { exact: true }).fill(year);
    await shot(s, 'young-person-end-date');
    await clickButton(s, 'Save the new end date');
    await expectText(s, `until 14 February ${year}`);
    await check(s, 'sharing after end date change');
  },

  // Amara says Sam's look doesn't look right; Dana sees it, answers, filters
  // the table and downloads it.
  async ConcernReachesDPO(browser) {
    const s = await session(browser, 'amara');
    await visit(s, '/yp/amara/looked');
    await expectText(s, 'Sam Patel, a social worker at Riverside Council, looked at your address');
    await shot(s, 'young-person-who-has-looked');
    await clickLink(s, 'Ask why they looked');
    await shot(s, 'young-person-concern');
    await s.page.getByLabel(/Anything you want to add/).fill('I did not know Sam would look this week.');
    await clickButton(s, 'Send your question to Riverside Council');
    await expectText(s, "We've sent your question to the person at Riverside Council");
    await expectText(s, 'They should answer by');
    await check(s, 'looked after concern');

    const d = await session(browser, 'dana');
    await shot(d, 'dpo-disclosures');
    await visit(d, '/dpo/riverside-council/concerns');
    await expectText(d, 'I did not know Sam would look this week.');
    await shot(d, 'dpo-concerns');
    await d.page.getByLabel('Your answer to Amara Okafor').fill('Sam looked to plan the home visit you agreed to. Ask me if you want to know more.');
    await clickButton(d, 'Send answer');
    await expectText(d, 'Your answer has been sent');
    await visit(d, '/dpo/riverside-council/disclosures');
    await d.page.getByLabel('What', { exact: true }).selectOption('address');
    await d.page.getByLabel('Outcome').selectOption('disclosed');
    await clickButton(d, 'Apply filters');
    const rows = await d.page.locator('table tbody tr').count();
    expect(rows >= 1, `dpo: ${rows} rows after filtering to disclosed addresses, want at least 1`);
    const other = await d.page.locator('table tbody tr', { hasText: 'Phone number' }).count();
    expect(other === 0, 'dpo: the filtered table still shows phone numbers');
    await shot(d, 'dpo-disclosures-filtered');
    const [download] = await Promise.all([d.page.waitForEvent('download'), d.page.getByRole('link', { name: 'Download these as CSV' }).click()]);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv.startsWith('logIndex,at,actorId'), `dpo: CSV starts ${JSON.stringify(csv.slice(0, 40))}`);
    expect(csv.includes(',sam,Sam Patel,') && csv.includes(',address,home-visit,consent,'), `dpo: CSV lacks Sam's read of the address:\n${csv}`);
    expect(!csv.includes(',phone,'), 'dpo: the CSV ignores the filter');
    await visit(d, '/dpo/riverside-council/log');
    await clickButton(d, 'Check the log now');
    await expectText(d, 'The log checked out');
    await shot(d, 'dpo-log');

    await visit(s, '/yp/amara/looked');
    await expectText(s, 'Sam looked to plan the home visit you agreed to.');
  },

  // Grace acts for Leo: the banner is on every page; she shares; Leo sees
  // what she did.
  async FamilyActsForChild(browser) {
    const g = await session(browser, 'grace');
    await expectText(g, 'You are using Sayso for Leo Williams');
    await shot(g, 'family-home');
    await visit(g, '/yp/leo/sharing');
    await expectText(g, 'You are using Sayso for Leo Williams');
    await clickLink(g, 'Share something new');
    await expectText(g, 'You are using Sayso for Leo Williams');
    await choose(g, 'Priya Shah');
    await clickButton(g, 'Continue');
    await choose(g, "Leo's school information");
    await clickButton(g, 'Continue');
    await choose(g, 'To help Leo with school');
    await clickButton(g, 'Continue');
    await choose(g, '3 months');
    await clickButton(g, 'Continue');
    await expectText(g, 'You are using Sayso for Leo Williams');
    await shot(g, 'family-share-check');
    await clickButton(g, "Share Leo's school information with Priya Shah");
    await expectText(g, "You are sharing Leo's school information with Priya Shah");
    await visit(g, '/yp/leo/family');
    await shot(g, 'family-who-can-act');

    const l = await session(browser, 'leo');
    await expectText(l, 'Grace Williams (your mum) shared your school information with Priya Shah');
    await shot(l, 'child-home');
    await visit(l, '/yp/leo/sharing');
    await expectText(l, 'Grace Williams (your mum) shared this');
    await shot(l, 'child-who-can-see-what');
  },

  // Amara writes what helps, shares it with Jo; Jo reads it; Amara sees that Jo read it.
  async StoryTellOnce(browser) {
    const s = await session(browser, 'amara');
    await visit(s, '/yp/amara/story');
    await shot(s, 'young-person-story');
    await clickLink(s, /Write this part\s*:\s*What helps/);
    await clickButton(s, 'Save this part');
    await expectText(s, 'There is a problem');
    await check(s, 'story edit with error');
    const words = 'Music helps. Talking while we walk helps more than sitting in an office.';
    await s.page.getByLabel('What helps').fill(words);
    await shot(s, 'young-person-story-write');
    await clickButton(s, 'Save this part');
    await expectText(s, 'Saved. This is version 1.');
    await expectText(s, words);
    await visit(s, '/yp/amara/share/who');
    await choose(s, 'Jo Brennan');
    await clickButton(s, 'Continue');
    await choose(s, 'Your story: what helps');
    await clickButton(s, 'Continue');
    await choose(s, 'To plan the help you get');
    await clickButton(s, 'Continue');
    await choose(s, '3 months');
    await clickButton(s, 'Continue');
    await clickButton(s, 'Share your story: what helps with Jo Brennan');
    await expectText(s, 'You are sharing your story: what helps with Jo Brennan');

    const j = await session(browser, 'jo');
    await visit(j, '/work/yp/amara/read');
    await choose(j, 'Story: what helps');
    await choose(j, 'Plan support');
    await clickButton(j, 'Read it now');
    await expectText(j, words);
    await expectText(j, "In Amara's own words, version 1");
    await shot(j, 'professional-reads-story');

    await visit(s, '/yp/amara/story');
    await expectText(s, 'Jo Brennan, a youth worker at Youth Hub, looked at your story: what helps');
    await shot(s, 'young-person-story-read');
  },

  // Sam opens statutory access (a bad submission first) and reads; Dana
  // reviews it and delays telling Amara, who does not see it yet.
  async StatutoryAccess(browser) {
    const s = await session(browser, 'sam');
    await visit(s, '/work/yp/amara');
    await clickLink(s, 'Open statutory access');
    await shot(s, 'professional-statutory');
    const reason = 'Her school reported an injury this morning; strategy discussion at 2pm.';
    await s.page.getByLabel('Why do you need this now?').fill(reason);
    await clickButton(s, 'Open statutory access');
    await expectText(s, 'There is a problem');
    await expectText(s, 'Choose what you need to see');
    const kept = await s.page.getByLabel('Why do you need this now?').inputValue();
    expect(kept === reason, `statutory: reason after bad submission = ${JSON.stringify(kept)}, want what was typed`);
    await check(s, 'statutory with error');
    await choose(s, 'Social care information');
    await choose(s, "Children Act 1989, section 47: duty to make enquiries about a child's safety");
    await clickButton(s, 'Open statutory access');
    await expectText(s, 'Statutory access is open until');

    // Dana decides before anything is read that telling Amara now is unsafe.
    const d = await session(browser, 'dana');
    await visit(d, '/dpo/riverside-council/statutory');
    await expectText(d, 'Needs you');
    await shot(d, 'dpo-statutory');
    await clickLink(d, 'Review');
    await expectText(d, reason);
    await expectText(d, 'Nothing read yet');
    await d.page.getByLabel('Why not tell them yet?').fill('Telling her before the strategy discussion could put her at risk.');
    const day = new Date(Date.now() + 7 * 864e5);
    await d.page.getByLabel('Day', { exact: true }).fill(String(day.getDate()));
    await d.page.getByLabel('Month', { exact: true }).fill(String(day.getMonth() + 1));
    await d.page.getByLabel('Year', { exact: true }).fill(String(day.getFullYear()));
    await clickButton(d, 'Record the decision to delay');
    await expectText(d, 'Not told until');
    await clickButton(d, 'Mark as reviewed');
    await expectText(d, 'Reviewed by Dana Lewis');
    await expectText(d, 'Not told until');
    await shot(d, 'dpo-statutory-access');

    await visit(s, '/work/yp/amara/read');
    await choose(s, 'Social care information');
    await choose(s, 'Child protection enquiry');
    await clickButton(s, 'Read it now');
    await expectText(s, 'Support plan agreed with Amara');

    const a = await session(browser, 'amara');
    await visit(a, '/yp/amara/looked');
    const body = await bodyText(a);
    expect(!body.includes('to check that you are safe'), `statutory: Amara sees the delayed access:
${body.slice(0, 1500)}`);
  },

  // After the review date (the test moves Sayso's clock) Amara sees it.
  async StatutoryAppears(browser) {
    const a = await session(browser, 'amara');
    await visit(a, '/yp/amara/looked');
    await expectText(a, 'Sam Patel, a social worker at Riverside Council, looked at your social care information');
    await expectText(a, 'The law says they must do this, so they did not need to ask you first.');
    await shot(a, 'young-person-statutory-shown');
  },

  // Grace does not see Leo's social care information; Leo does. Amara
  // chooses what her gran can see.
  async FamilyRules(browser) {
    const g = await session(browser, 'grace');
    await visit(g, '/yp/leo/holders');
    const seen = (await bodyText(g)).toLowerCase();
    expect(!seen.includes('social care information'), `family: Grace sees Leo's social care information:\n${seen.slice(0, 1500)}`);
    await visit(g, '/yp/leo/looked');
    const looked = (await bodyText(g)).toLowerCase();
    expect(!looked.includes('social care information') && !looked.includes('are safe'), `family: Grace sees social care entries:\n${looked.slice(0, 1500)}`);
    const l = await session(browser, 'leo');
    await visit(l, '/yp/leo/holders');
    await expectText(l, 'Your social care information');
    await visit(l, '/yp/leo/looked');
    await expectText(l, 'looked at your social care information');
    const a = await session(browser, 'amara');
    await visit(a, '/yp/amara/family');
    await a.page.getByRole('group', { name: 'What can Ruth see?' }).getByLabel('Your school information').check();
    await shot(a, 'young-person-family-rules');
    await clickButton(a, 'Save what Ruth can see');
    await expectText(a, 'Ruth can see only what you ticked');
    await expectText(a, 'They can see: your school information.');

    const r = await session(browser, 'ruth');
    await expectText(r, 'Amara decides for themselves, and chose what you can see here.');
    await shot(r, 'family-limited-home');
    await visit(r, '/yp/amara/holders');
    const ruthSees = await bodyText(r);
    expect(ruthSees.includes("Amara's school information") && !ruthSees.toLowerCase().includes('social care information') && !ruthSees.includes("Amara's address"),
      `family: Ruth should see only Amara's school information:\n${ruthSees.slice(0, 1500)}`);
  },

  // Sam hands over to Rosa and leaves; his note reaches Amara first; Rosa
  // sees nothing until Amara says yes.
  async Handover(browser) {
    const s = await session(browser, 'sam');
    await visit(s, '/work/yp/amara');
    await clickLink(s, 'Hand over to a colleague');
    await clickButton(s, 'Hand over and end my access');
    await expectText(s, 'There is a problem');
    await s.page.getByLabel(/A note for Amara/).fill('I am leaving Riverside. Rosa knows your plan and will text before visiting.');
    await choose(s, 'Rosa Green');
    await shot(s, 'professional-handover');
    await clickButton(s, 'Hand over and end my access');
    await expectText(s, 'You have handed over');

    const r = await session(browser, 'rosa');
    await visit(r, '/work/yp/amara');
    await expectText(r, 'Nothing is shared with you at the moment.');
  },

  // After Sam has left Riverside (the test ends his membership).
  async HandoverAfterLeaving(browser) {
    const s = await session(browser, 'sam');
    const gone = await s.page.goto(`${base}/work/yp/amara/read`);
    expect(gone.status() === 404, `handover: Sam's read page after leaving = ${gone.status()}, want 404`);

    const a = await session(browser, 'amara');
    await expectText(a, 'I am leaving Riverside. Rosa knows your plan and will text before visiting.');
    await shot(a, 'young-person-handover-home');
    await clickLink(a, 'Decide about sharing with Rosa Green');
    await shot(a, 'young-person-handover');
    await clickButton(a, 'Share what is ticked with Rosa Green');
    await expectText(a, 'Rosa Green can now see what you ticked');

    const r = await session(browser, 'rosa');
    await visit(r, '/work/yp/amara/read');
    await choose(r, 'Address');
    await choose(r, 'Home visit');
    await clickButton(r, 'Read it now');
    await expectText(r, '14 Willow Road');
  },

  // Amara stops sharing her phone number with Sam.
  async StopSharing(browser) {
    await stopSharing(browser, { javaScript: true, what: 'Your phone number' });
  },

  // The same journey with JavaScript off: Amara stops sharing her address.
  async StopSharingNoJavaScript(browser) {
    await stopSharing(browser, { javaScript: false, what: 'Your address', suffix: '-nojs' });
  },
};

async function stopSharing(browser, { javaScript, what, suffix = '' }) {
  const s = await session(browser, 'amara', { javaScript });
  await visit(s, '/yp/amara/sharing');
  const before = await s.page.locator('.share-card').count();
  await clickLink(s, new RegExp(`Stop sharing\\s*:\\s*${what}`));
  expect((await heading(s)) === 'Stop sharing with Sam Patel?', `stop: confirmation heading is ${await heading(s)}`);
  await expectText(s, what);
  await shot(s, `young-person-stop${suffix}`);
  await clickButton(s, 'Stop sharing');
  expect(new URL(s.page.url()).pathname === '/yp/amara/sharing', `stop: ended at ${s.page.url()}`);
  await expectText(s, 'You stopped sharing');
  const after = await s.page.locator('.share-card').count();
  expect(after === before - 1, `stop: ${after} shares after stopping, want ${before - 1}`);
  await shot(s, `young-person-stopped${suffix}`);
}

const run = journeys[journey];
if (!run) {
  console.error(`no journey ${journey}; journeys: ${Object.keys(journeys).join(', ')}`);
  process.exit(2);
}
if (!existsSync(executablePath)) {
  console.error(`no Chromium at ${executablePath}`);
  process.exit(3);
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
let code = 0;
try {
  await run(browser);
} catch (e) {
  console.error(`journey ${journey} failed: ${e.stack || e}`);
  code = 1;
} finally {
  await browser.close();
}
if (problems.length > 0) {
  console.error(`${problems.length} problem(s) in journey ${journey}:\n  ${problems.join('\n  ')}`);
  code = 1;
}
console.log(`journey ${journey}: ${checked.size} page(s) checked with axe-core (${AXE_TAGS.join(', ')}): ${problems.length} problem(s)`);
process.exit(code);
