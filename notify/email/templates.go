package email

import (
	htmltemplate "html/template"
	texttemplate "text/template"
)

// DefaultTemplates returns the built-in templates, a new copy on each call
// that the caller may change: one subject, text and HTML template per
// notification kind, in English.
func DefaultTemplates() *Templates {
	return &Templates{
		Subject: texttemplate.Must(texttemplate.New("subject").Parse(defaultSubjects)),
		Text:    texttemplate.Must(texttemplate.New("text").Parse(defaultText)),
		HTML:    htmltemplate.Must(htmltemplate.New("html").Parse(defaultHTML)),
	}
}

const defaultSubjects = `
{{- define "days"}}{{if eq . 1}}1 day{{else}}{{.}} days{{end}}{{end}}

{{- define "licences.assigned" -}}
{{.Quantity}} {{.Tier}} licences ready to allocate for {{.CompanyName}}
{{- end}}

{{- define "licences.requested" -}}
{{.CompanyName}} requested {{.Quantity}} {{.Tier}} licences
{{- end}}

{{- define "request.rejected" -}}
Your request for {{.Quantity}} {{.Tier}} licences for {{.CompanyName}} was rejected
{{- end}}

{{- define "licences.expiring" -}}
{{if eq .DaysLeft 0 -}}
{{.Quantity}} {{.Tier}} licences for {{.CompanyName}} have expired
{{- else -}}
{{.Quantity}} {{.Tier}} licences for {{.CompanyName}} expire in {{template "days" .DaysLeft}}
{{- end}}
{{- end}}

{{- define "licences.access_lost" -}}
{{if eq (len .Learners) 1}}1 learner{{else}}{{len .Learners}} learners{{end}} of {{.CompanyName}} lost {{.Tier}} access: the renewal did not cover them
{{- end}}`

const defaultText = `
{{- define "days"}}{{if eq . 1}}1 day{{else}}{{.}} days{{end}}{{end}}

{{- define "footer"}}
-- 
This is an automated message from the licence ledger; replies are not read.
{{end}}

{{- define "licences.assigned" -}}
Hello,

{{.Quantity}} {{.Tier}} licences have been assigned to {{.CompanyName}} and are ready to allocate to your learners.

  Order:     {{.Order}}
  Tier:      {{.Tier}}
  Quantity:  {{.Quantity}}
{{- if .Expires}}
  Expires:   {{.Expires}}

The countdown started when the order was assigned, not when a licence is given to a learner: allocate them before {{.Expires}} to make the most of them.
{{- end}}
{{template "footer"}}
{{- end}}

{{- define "licences.requested" -}}
Hello,

{{.CompanyName}} has requested {{.Quantity}} {{.Tier}} licences. The order is waiting for you to assign it in Requested Orders.

  Order:     {{.Order}}
  Company:   {{.CompanyName}} ({{.Company}})
  Tier:      {{.Tier}}
  Quantity:  {{.Quantity}}
{{template "footer"}}
{{- end}}

{{- define "request.rejected" -}}
Hello,

Your request for {{.Quantity}} {{.Tier}} licences for {{.CompanyName}} was rejected.

  Order:     {{.Order}}
  Reason:    {{.Reason}}
{{template "footer"}}
{{- end}}

{{- define "licences.expiring" -}}
Hello,

{{if eq .DaysLeft 0 -}}
The {{.Quantity}} {{.Tier}} licences of order {{.Order}} for {{.CompanyName}} expired on {{.Expires}}.
{{- else -}}
The {{.Quantity}} {{.Tier}} licences of order {{.Order}} for {{.CompanyName}} expire in {{template "days" .DaysLeft}}, on {{.Expires}}.
{{- end}}

  Allocated:    {{.Allocated}}
  Unallocated:  {{.Unallocated}}
{{- if and .DaysLeft .Unallocated}}

{{.Unallocated}} of them are not allocated yet: allocate them before they expire.
{{- end}}
{{template "footer"}}
{{- end}}

{{- define "licences.access_lost" -}}
Hello,

Order {{.Order}} of {{.Tier}} licences for {{.CompanyName}} expired on {{.Expires}}. Its renewal had no seat left for these learners, who lost access:

{{range .Learners}}  {{.}}
{{end}}
Allocate them a licence again, from a free seat or a new order.
{{template "footer"}}
{{- end}}`

const defaultHTML = `
{{- define "days"}}{{if eq . 1}}1 day{{else}}{{.}} days{{end}}{{end}}

{{- define "header"}}<!DOCTYPE html>
<html><body style="font-family: sans-serif">
<p>Hello,</p>
{{end}}

{{- define "footer"}}
<p style="color: #666; font-size: small">This is an automated message from the licence ledger; replies are not read.</p>
</body></html>
{{end}}

{{- define "licences.assigned" -}}
{{template "header"}}
<p><strong>{{.Quantity}} {{.Tier}}</strong> licences have been assigned to <strong>{{.CompanyName}}</strong> and are ready to allocate to your learners.</p>
<table>
<tr><th align="left">Order</th><td>{{.Order}}</td></tr>
<tr><th align="left">Tier</th><td>{{.Tier}}</td></tr>
<tr><th align="left">Quantity</th><td>{{.Quantity}}</td></tr>
{{- if .Expires}}
<tr><th align="left">Expires</th><td>{{.Expires}}</td></tr>
{{- end}}
</table>
{{- if .Expires}}
<p>The countdown started when the order was assigned, not when a licence is given to a learner: allocate them before {{.Expires}} to make the most of them.</p>
{{- end}}
{{template "footer"}}
{{- end}}

{{- define "licences.requested" -}}
{{template "header"}}
<p><strong>{{.CompanyName}}</strong> has requested <strong>{{.Quantity}} {{.Tier}}</strong> licences. The order is waiting for you to assign it in Requested Orders.</p>
<table>
<tr><th align="left">Order</th><td>{{.Order}}</td></tr>
<tr><th align="left">Company</th><td>{{.CompanyName}} ({{.Company}})</td></tr>
<tr><th align="left">Tier</th><td>{{.Tier}}</td></tr>
<tr><th align="left">Quantity</th><td>{{.Quantity}}</td></tr>
</table>
{{template "footer"}}
{{- end}}

{{- define "request.rejected" -}}
{{template "header"}}
<p>Your request for <strong>{{.Quantity}} {{.Tier}}</strong> licences for <strong>{{.CompanyName}}</strong> was rejected.</p>
<table>
<tr><th align="left">Order</th><td>{{.Order}}</td></tr>
<tr><th align="left">Reason</th><td>{{.Reason}}</td></tr>
</table>
{{template "footer"}}
{{- end}}

{{- define "licences.expiring" -}}
{{template "header"}}
{{- if eq .DaysLeft 0}}
<p>The <strong>{{.Quantity}} {{.Tier}}</strong> licences of order {{.Order}} for <strong>{{.CompanyName}}</strong> expired on {{.Expires}}.</p>
{{- else}}
<p>The <strong>{{.Quantity}} {{.Tier}}</strong> licences of order {{.Order}} for <strong>{{.CompanyName}}</strong> expire in {{template "days" .DaysLeft}}, on {{.Expires}}.</p>
{{- end}}
<table>
<tr><th align="left">Allocated</th><td>{{.Allocated}}</td></tr>
<tr><th align="left">Unallocated</th><td>{{.Unallocated}}</td></tr>
</table>
{{- if and .DaysLeft .Unallocated}}
<p>{{.Unallocated}} of them are not allocated yet: allocate them before they expire.</p>
{{- end}}
{{template "footer"}}
{{- end}}

{{- define "licences.access_lost" -}}
{{template "header"}}
<p>Order {{.Order}} of <strong>{{.Tier}}</strong> licences for <strong>{{.CompanyName}}</strong> expired on {{.Expires}}. Its renewal had no seat left for these learners, who lost access:</p>
<ul>
{{- range .Learners}}
<li>{{.}}</li>
{{- end}}
</ul>
<p>Allocate them a licence again, from a free seat or a new order.</p>
{{template "footer"}}
{{- end}}`
