// Package smtpsink runs an SMTP server on loopback, built on
// github.com/emersion/go-smtp, that keeps the messages it accepts, for
// tests of what is sent by email. Options add STARTTLS or implicit TLS with
// a self-signed certificate and AUTH PLAIN with one login; FailNext,
// FailNextWith and RefuseRecipient make it refuse messages and recipients
// with the replies a test chooses.
package smtpsink

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/mail"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configures a Sink. The zero value, like nil, is plain SMTP
// without AUTH.
type Options struct {
	// STARTTLS offers STARTTLS; ImplicitTLS speaks TLS from the first
	// byte. Either uses a certificate for 127.0.0.1 that Roots trusts.
	STARTTLS    bool
	ImplicitTLS bool
	// Username and Password, when Username is set, are the one login AUTH
	// PLAIN accepts. The server offers AUTH only over TLS.
	Username, Password string
	// RequireAuth refuses MAIL FROM before AUTH.
	RequireAuth bool
}

// Message is one message a Sink accepted.
type Message struct {
	From   string      // envelope sender
	To     []string    // envelope recipients
	Data   []byte      // the message as sent, header and body
	Header mail.Header // the message's header, parsed
	User   string      // the user who authenticated, "" if none
	TLS    bool        // whether the session spoke TLS
}

// Sink is an SMTP server listening on 127.0.0.1 that keeps what it is sent.
type Sink struct {
	Host string
	Port int
	// Roots trusts the sink's certificate; nil without TLS.
	Roots *x509.CertPool

	opt      Options
	mu       sync.Mutex
	msgs     []Message
	sessions int
	failData int
	dataErr  *smtp.SMTPError
	refuse   map[string]*smtp.SMTPError
}

// New starts a sink on a free port of 127.0.0.1, closed when t ends. opt
// may be nil.
func New(t testing.TB, opt *Options) *Sink {
	t.Helper()
	sink := &Sink{Host: "127.0.0.1"}
	if opt != nil {
		sink.opt = *opt
	}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		sink.mu.Lock()
		sink.sessions++
		sink.mu.Unlock()
		sess := &session{sink: sink, conn: c}
		if sink.opt.Username != "" {
			return &authSession{sess}, nil
		}
		return sess, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if sink.opt.STARTTLS || sink.opt.ImplicitTLS {
		var cert tls.Certificate
		cert, sink.Roots = selfSigned(t)
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if sink.opt.ImplicitTLS {
			l = tls.NewListener(l, s.TLSConfig)
		}
	}
	sink.Port = l.Addr().(*net.TCPAddr).Port
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return sink
}

// Addr returns the sink's address, host:port.
func (s *Sink) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Messages returns the messages accepted so far, in the order they came.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Sessions returns how many SMTP sessions clients have opened.
func (s *Sink) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// FailNext makes the sink refuse the next n messages with a temporary
// failure, 451 4.3.0, after their data is sent.
func (s *Sink) FailNext(n int) {
	s.failNext(n, &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"})
}

// FailNextWith makes the sink refuse the next n messages after their data
// is sent, with the reply code (4xx for now, 5xx for good) and text; a text
// of several lines is a multi-line reply.
func (s *Sink) FailNextWith(n, code int, text string) {
	s.failNext(n, &smtp.SMTPError{Code: code, Message: text})
}

func (s *Sink) failNext(n int, err *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failData, s.dataErr = n, err
}

// RefuseRecipient makes the sink refuse RCPT TO:<addr> from now on with the
// reply code (4xx for now, 5xx for good) and text; the other recipients of
// the message are accepted as usual.
func (s *Sink) RefuseRecipient(addr string, code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse == nil {
		s.refuse = map[string]*smtp.SMTPError{}
	}
	s.refuse[addr] = &smtp.SMTPError{Code: code, Message: text}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtp test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

type session struct {
	sink *Sink
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.sink.opt.RequireAuth && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.sink.mu.Lock()
	refusal := s.sink.refuse[to]
	s.sink.mu.Unlock()
	if refusal != nil {
		return refusal
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return err
	}
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	if s.sink.failData > 0 {
		s.sink.failData--
		return s.sink.dataErr
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.sink.msgs = append(s.sink.msgs, Message{From: s.from, To: slices.Clone(s.to), Data: data, Header: m.Header,
		User: s.user, TLS: isTLS})
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// authSession is a session that offers AUTH PLAIN: go-smtp offers AUTH to
// a session that implements smtp.AuthSession.
type authSession struct{ *session }

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.sink.opt.Username || password != s.sink.opt.Password {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}
